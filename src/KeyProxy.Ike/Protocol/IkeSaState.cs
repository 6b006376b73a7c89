using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Messages;

namespace KeyProxy.Ike.Protocol;

/// <summary>
/// One IKE SA inside a session: SPIs, keys and the message-ID windows of RFC 7296 2.3 (window size 1).
/// A session holds more than one only while an IKE SA rekey is completing (RFC 7296 2.18).
/// </summary>
internal sealed class IkeSaState
{
    public required ulong InitiatorSpi { get; init; }
    public ulong ResponderSpi { get; set; }

    /// <summary>This node is the "original initiator" of this IKE SA (for an IKE SA rekey: the initiator of the rekey).</summary>
    public required bool WeAreInitiator { get; init; }

    public IkeSuite? Suite { get; set; }
    public IkeSaKeys? Keys { get; set; }
    public Prf? Prf { get; set; }
    public ISkCipher? Outbound { get; set; }
    public ISkCipher? Inbound { get; set; }

    /// <summary>Nonces of the exchange that created this SA (IKE_SA_INIT, or the rekeying CREATE_CHILD_SA).</summary>
    public byte[] NonceI { get; set; } = [];
    public byte[] NonceR { get; set; } = [];

    public uint NextRequestId { get; set; }
    public uint NextPeerRequestId { get; set; }
    public PendingRequest? Outstanding { get; set; }

    /// <summary>RFC 7296 2.1: the last response is kept and sent again when its request is retransmitted.</summary>
    public uint? LastResponseId { get; set; }
    public IReadOnlyList<byte[]>? LastResponse { get; set; }
    public bool LastResponseNatTraversal { get; set; }

    /// <summary>RFC 7383 2.6: requests and responses have independent message IDs, so each gets its own reassembler.</summary>
    public IkeFragmentReassembler RequestReassembler { get; } = new();
    public IkeFragmentReassembler ResponseReassembler { get; } = new();
    public bool PeerSupportsFragmentation { get; set; }
    public bool Deleting { get; set; }

    public bool Matches(ulong initiatorSpi, ulong responderSpi) =>
        initiatorSpi == InitiatorSpi && (responderSpi == ResponderSpi || ResponderSpi == 0);

    /// <summary>The I flag this node puts on its messages (RFC 7296 3.1).</summary>
    public IkeFlags OwnFlags => WeAreInitiator ? IkeFlags.Initiator : IkeFlags.None;

    public void ClearKeys()
    {
        Keys?.Dispose();
        Keys = null;
    }
}

/// <summary>A request in flight (window size 1) and what to do with its response.</summary>
internal sealed class PendingRequest
{
    public required uint MessageId { get; init; }
    public required ExchangeType Exchange { get; init; }
    public required IReadOnlyList<byte[]> Datagrams { get; set; }
    public required bool NatTraversal { get; set; }
    public required Action<IkeSaState, IkeMessage, List<IkePayload>> OnResponse { get; init; }
    public int Transmissions { get; set; } = 1;
    public DateTimeOffset RetransmitAt { get; set; }
}
