using System.Net;

namespace KeyProxy.Primitives;

/// <summary>
/// One traffic selector (RFC 7296 3.13.1): an address range, a port range and an IP protocol (0 = any).
/// Both addresses are of the same family; the family gives the TS type.
/// </summary>
public sealed record TrafficSelector(byte IpProtocol, ushort StartPort, ushort EndPort, IPAddress StartAddress, IPAddress EndAddress)
{
    public TrafficSelectorType SelectorType =>
        StartAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? TrafficSelectorType.Ipv6AddressRange
            : TrafficSelectorType.Ipv4AddressRange;

    /// <summary>
    /// A selector read from the wire (RFC 7296 3.13.1): the address range from its octets. A single host's range (the usual
    /// case) gets one address object for both ends.
    /// </summary>
    public static TrafficSelector FromOctets(byte ipProtocol, ushort startPort, ushort endPort, ReadOnlySpan<byte> startAddress, ReadOnlySpan<byte> endAddress)
    {
        var start = new IPAddress(startAddress);
        return new TrafficSelector(ipProtocol, startPort, endPort, start, startAddress.SequenceEqual(endAddress) ? start : new IPAddress(endAddress));
    }
}

/// <summary>Traffic selector types (RFC 7296 3.13.1).</summary>
public enum TrafficSelectorType : byte
{
    Ipv4AddressRange = 7,
    Ipv6AddressRange = 8,
}
