using System.Net.Sockets;
using KeyProxy.Primitives;

namespace KeyProxy.Ipsec.Policy;

/// <summary>
/// A <see cref="TrafficSelector"/> precompiled for allocation-free matching: family, address range as 128-bit
/// numbers, protocol (0 = any) and port range. A packet without ports (ICMP, non-initial fragment) matches only a
/// selector with the full port range 0-65535 (RFC 4301 4.4.1.1, OPAQUE ports).
/// </summary>
internal readonly record struct CompiledSelector(AddressFamily Family, UInt128 Start, UInt128 End, byte Protocol, ushort StartPort, ushort EndPort)
{
    public static CompiledSelector Compile(TrafficSelector selector)
    {
        ArgumentNullException.ThrowIfNull(selector);
        if (selector.StartAddress.AddressFamily != selector.EndAddress.AddressFamily)
        {
            throw new ArgumentException("a traffic selector's addresses must be of one family", nameof(selector));
        }

        return new CompiledSelector(
            selector.StartAddress.AddressFamily,
            AddressValue.From(selector.StartAddress),
            AddressValue.From(selector.EndAddress),
            selector.IpProtocol,
            selector.StartPort,
            selector.EndPort);
    }

    public static CompiledSelector[] CompileAll(IReadOnlyList<TrafficSelector> selectors)
    {
        var compiled = new CompiledSelector[selectors.Count];
        for (var i = 0; i < compiled.Length; i++)
        {
            compiled[i] = Compile(selectors[i]);
        }

        return compiled;
    }

    public bool Matches(AddressFamily family, UInt128 address, byte protocol, ushort port, bool hasPorts) =>
        family == Family
        && address >= Start && address <= End
        && (Protocol == 0 || Protocol == protocol)
        && (hasPorts ? port >= StartPort && port <= EndPort : StartPort == 0 && EndPort == ushort.MaxValue);

    /// <summary>
    /// True when some local selector matches this node's end of the packet and some remote selector the peer's end.
    /// An empty list matches anything. <paramref name="localIsSource"/>: outbound packets.
    /// </summary>
    public static bool Covers(CompiledSelector[] local, CompiledSelector[] remote, in PacketSelector packet, bool localIsSource)
    {
        var localAddress = localIsSource ? packet.Source : packet.Destination;
        var remoteAddress = localIsSource ? packet.Destination : packet.Source;
        var localPort = localIsSource ? packet.SourcePort : packet.DestinationPort;
        var remotePort = localIsSource ? packet.DestinationPort : packet.SourcePort;
        return AnyMatches(local, packet.Family, localAddress, packet.Protocol, localPort, packet.HasPorts)
            && AnyMatches(remote, packet.Family, remoteAddress, packet.Protocol, remotePort, packet.HasPorts);
    }

    private static bool AnyMatches(CompiledSelector[] selectors, AddressFamily family, UInt128 address, byte protocol, ushort port, bool hasPorts)
    {
        if (selectors.Length == 0)
        {
            return true;
        }

        foreach (var selector in selectors)
        {
            if (selector.Matches(family, address, protocol, port, hasPorts))
            {
                return true;
            }
        }

        return false;
    }
}
