using KeyProxy.Ipsec.Esp;
using KeyProxy.Wire.Ip;

namespace KeyProxy.Handset;

/// <summary>
/// An SA pair installed from a key transfer, with where its ESP goes (RFC 3948: UDP from the
/// handset's encapsulation port to the peer's; or plain ESP, IP protocol 50, when the network saw no
/// NAT and its edge carries it) and its place in a rekey (the seed's S31: the new
/// pair takes the traffic, the old inbound SA drains).
/// </summary>
internal sealed class InstalledSa(EspSaPair pair, IpAddressValue peer, bool udpEncapsulation, ushort peerPort, ushort handsetPort)
{
    public EspSaPair Pair { get; } = pair;
    public IpAddressValue Peer { get; } = peer;

    /// <summary>ESP in UDP between <see cref="HandsetPort"/> and <see cref="PeerPort"/>; false: plain ESP (the ports are 0).</summary>
    public bool UdpEncapsulation { get; } = udpEncapsulation;
    public ushort PeerPort { get; } = peerPort;
    public ushort HandsetPort { get; } = handsetPort;
    public uint InboundSpi => Pair.Inbound.Spi;
    public uint OutboundSpi => Pair.Outbound.Spi;

    /// <summary>Set on the old pair when a rekeyed pair arrives: the latest time it is removed.</summary>
    public DateTimeOffset? RemoveAt { get; set; }

    /// <summary>On the new pair of a rekey: the old pair's inbound SPI, until traffic arrives here.</summary>
    public uint DrainsPredecessor { get; set; }

    /// <summary>Whether the soft lifetime event was already reported.</summary>
    public bool SoftReported { get; set; }
}
