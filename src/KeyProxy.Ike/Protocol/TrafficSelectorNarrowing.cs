using System.Net;
using KeyProxy.Ike.Messages;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Protocol;

/// <summary>RFC 7296 2.9: the responder narrows the proposed selectors to the part its policy allows.</summary>
public static class TrafficSelectorNarrowing
{
    /// <summary>Every non-empty intersection of a proposed selector with an allowed one, in proposal order.</summary>
    public static List<TrafficSelector> Narrow(IReadOnlyList<TrafficSelector> proposed, IReadOnlyList<TrafficSelector> allowed)
    {
        var result = new List<TrafficSelector>(1);
        for (var p = 0; p < proposed.Count; p++)
            for (var a = 0; a < allowed.Count; a++)
                if (Intersect(proposed[p], allowed[a]) is { } i && !result.Contains(i))
                    result.Add(i);
        return result;
    }

    /// <summary>The intersection of two selectors, or null when they share nothing (different family, protocol, ports or addresses).</summary>
    public static TrafficSelector? Intersect(TrafficSelector a, TrafficSelector b)
    {
        if (a.SelectorType != b.SelectorType) return null;
        byte protocol;
        if (a.IpProtocol == 0) protocol = b.IpProtocol;
        else if (b.IpProtocol == 0 || b.IpProtocol == a.IpProtocol) protocol = a.IpProtocol;
        else return null;

        var startPort = Math.Max(a.StartPort, b.StartPort);
        var endPort = Math.Min(a.EndPort, b.EndPort);
        if (startPort > endPort) return null;

        var start = Max(a.StartAddress, b.StartAddress);
        var end = Min(a.EndAddress, b.EndAddress);
        if (Compare(start, end) > 0) return null;
        return new TrafficSelector(protocol, (ushort)startPort, (ushort)endPort, start, end);
    }

    /// <summary>True when <paramref name="inner"/> lies entirely within <paramref name="outer"/>.</summary>
    public static bool IsSubset(TrafficSelector inner, TrafficSelector outer) =>
        // What Intersect(inner, outer) == inner means, without building the intersection.
        inner.SelectorType == outer.SelectorType
        && (outer.IpProtocol == 0 || outer.IpProtocol == inner.IpProtocol)
        && inner.StartPort <= inner.EndPort && outer.StartPort <= inner.StartPort && inner.EndPort <= outer.EndPort
        && Compare(inner.StartAddress, inner.EndAddress) <= 0
        && Compare(outer.StartAddress, inner.StartAddress) <= 0 && Compare(inner.EndAddress, outer.EndAddress) <= 0;

    /// <summary>True when every selector of <paramref name="narrowed"/> lies inside one of <paramref name="proposed"/>.</summary>
    public static bool AllWithin(IReadOnlyList<TrafficSelector> narrowed, IReadOnlyList<TrafficSelector> proposed)
    {
        if (narrowed.Count == 0) return false;
        for (var n = 0; n < narrowed.Count; n++)
        {
            var inside = false;
            for (var p = 0; p < proposed.Count; p++)
                if (IsSubset(narrowed[n], proposed[p])) { inside = true; break; }
            if (!inside) return false;
        }
        return true;
    }

    /// <summary>A selector for a whole prefix, all protocols and ports: e.g. 10.1.0.0/16.</summary>
    public static TrafficSelector ForPrefix(IPAddress network, int prefixLength, byte ipProtocol = 0, ushort startPort = 0, ushort endPort = 65535)
    {
        var bytes = network.GetAddressBytes();
        var low = (byte[])bytes.Clone();
        var high = (byte[])bytes.Clone();
        for (var bit = prefixLength; bit < bytes.Length * 8; bit++)
        {
            var mask = (byte)(0x80 >> (bit % 8));
            low[bit / 8] &= (byte)~mask;
            high[bit / 8] |= mask;
        }
        return new TrafficSelector(ipProtocol, startPort, endPort, new IPAddress(low), new IPAddress(high));
    }

    /// <summary>A selector for one host address, all protocols and ports.</summary>
    public static TrafficSelector ForHost(IPAddress address) =>
        new(0, 0, 65535, address, address);

    internal static int Compare(IPAddress a, IPAddress b)
    {
        Span<byte> x = stackalloc byte[16];
        Span<byte> y = stackalloc byte[16];
        a.TryWriteBytes(x, out var lx);
        b.TryWriteBytes(y, out var ly);
        return x[..lx].SequenceCompareTo(y[..ly]);
    }

    private static IPAddress Max(IPAddress a, IPAddress b) => Compare(a, b) >= 0 ? a : b;

    private static IPAddress Min(IPAddress a, IPAddress b) => Compare(a, b) <= 0 ? a : b;
}
