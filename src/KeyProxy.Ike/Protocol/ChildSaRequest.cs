using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Messages;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Protocol;

/// <summary>A CHILD_SA this node asked for and has no answer to yet (in IKE_AUTH or CREATE_CHILD_SA).</summary>
internal sealed class ChildSaRequest
{
    public required uint InboundSpi { get; init; }
    public required byte[] Nonce { get; init; }
    public IKeyExchange? KeyExchange { get; set; }
    public required IReadOnlyList<TrafficSelector> InitiatorSelectors { get; init; }
    public required IReadOnlyList<TrafficSelector> ResponderSelectors { get; init; }
    public ChildSaState? Rekeying { get; init; }
    public int InvalidKeRetries { get; set; }
}

/// <summary>An IKE SA rekey this node started (RFC 7296 1.3.2).</summary>
internal sealed class IkeSaRekeyRequest
{
    public required ulong Spi { get; init; }
    public required byte[] Nonce { get; init; }
    public required IKeyExchange KeyExchange { get; set; }

    /// <summary>Once the CREATE_CHILD_SA response named more key exchanges (RFC 9370 2.2.4): what they build on.</summary>
    public IkeRekeyInProgress? FollowUp { get; set; }
}
