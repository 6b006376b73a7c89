using KeyProxy.Wire;
using KeyProxy.Wire.Ip;

namespace KeyProxy.Handset;

/// <summary>
/// One key exchange proxy request in flight (seed Fig. 7, S11-S13): the destination it is for,
/// the bytes sent (re-sent unchanged on retry, same request id and nonce) and the packets held.
/// </summary>
internal sealed class PendingProxyRequest(uint requestId, Nonce16 nonce, IpAddressValue peer, byte[] datagram, HeldPackets held)
{
    public uint RequestId { get; } = requestId;
    public Nonce16 Nonce { get; } = nonce;
    public IpAddressValue Peer { get; } = peer;

    /// <summary>The access datagram carrying the request.</summary>
    public byte[] Datagram { get; } = datagram;

    public HeldPackets Held { get; } = held;
    public int Attempts { get; set; }
    public DateTimeOffset RetryAt { get; set; }
}
