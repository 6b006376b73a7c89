using KeyProxy.Ike.Messages;

namespace KeyProxy.Ike.Protocol;

/// <summary>
/// The status notifies without data that IKE SAs send (RFC 7296 3.10.1, RFC 7383 2.3, RFC 9242 3): payloads are immutable
/// records, so one instance of each serves every message.
/// </summary>
internal static class StatusNotifies
{
    public static readonly NotifyPayload FragmentationSupported = new(NotifyType.Ikev2FragmentationSupported);
    public static readonly NotifyPayload IntermediateExchangeSupported = new(NotifyType.IntermediateExchangeSupported);
    public static readonly NotifyPayload InitialContact = new(NotifyType.InitialContact);
    public static readonly NotifyPayload UseTransportMode = new(NotifyType.UseTransportMode);
}
