using KeyProxy.Wire.Ip;

namespace KeyProxy.Edge.Classification;

/// <summary>
/// What <see cref="EdgeClassifier.ClassifyPoolPacket"/> read from a whole IP packet addressed to a pool address: the
/// handset it is for, the peer it comes from, and for UDP the ports and where the UDP payload starts in the packet
/// (<see cref="PayloadOffset"/>), with the IKE message's offset within that payload and its SPIs on IKE kinds.
/// </summary>
public readonly record struct PoolPacketInfo(
    IpAddressValue Handset,
    IpAddressValue Peer,
    ushort PeerPort,
    ushort HandsetPort,
    bool NatTraversal,
    int PayloadOffset,
    int IkeOffset,
    ulong InitiatorSpi,
    ulong ResponderSpi);
