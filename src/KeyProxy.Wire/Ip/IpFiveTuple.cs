namespace KeyProxy.Wire.Ip;

/// <summary>
/// Source and destination address and port plus protocol: a classification key held inline (no allocation),
/// with value equality and hashing.
/// </summary>
public readonly record struct IpFiveTuple(
    IpAddressValue Source,
    ushort SourcePort,
    IpAddressValue Destination,
    ushort DestinationPort,
    byte Protocol)
{
    public static IpFiveTuple Of(in IpPacket ip, in UdpDatagram udp) =>
        new(ip.Source, udp.SourcePort, ip.Destination, udp.DestinationPort, IpPacket.Udp);

    /// <summary>The tuple of the answer: source and destination swapped.</summary>
    public IpFiveTuple Reversed() => new(Destination, DestinationPort, Source, SourcePort, Protocol);

    public override string ToString() => $"{Source}:{SourcePort} -> {Destination}:{DestinationPort} ({Protocol})";
}
