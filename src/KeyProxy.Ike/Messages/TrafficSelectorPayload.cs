using KeyProxy.Primitives;

namespace KeyProxy.Ike.Messages;

/// <summary>TSi or TSr payload (RFC 7296 3.13).</summary>
public sealed record TrafficSelectorPayload(bool IsInitiator, IReadOnlyList<TrafficSelector> Selectors) : IkePayload
{
    public override PayloadType Type => IsInitiator ? PayloadType.TrafficSelectorInitiator : PayloadType.TrafficSelectorResponder;
}
