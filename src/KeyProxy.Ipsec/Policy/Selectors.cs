using System.Net;
using System.Net.Sockets;
using KeyProxy.Primitives;

namespace KeyProxy.Ipsec.Policy;

/// <summary>Builds <see cref="TrafficSelector"/>s from prefixes, single addresses or "any".</summary>
public static class Selectors
{
    /// <summary>All addresses of <paramref name="prefix"/>/<paramref name="prefixLength"/>, e.g. 10.1.0.0/16.</summary>
    public static TrafficSelector Prefix(IPAddress prefix, int prefixLength, byte protocol = 0, ushort startPort = 0, ushort endPort = ushort.MaxValue)
    {
        var bits = prefix.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, bits);
        var value = AddressValue.From(prefix);
        var hostMask = prefixLength == bits ? UInt128.Zero : (UInt128.One << (bits - prefixLength)) - 1;
        var start = value & ~hostMask;
        var end = start | hostMask;
        if (bits == 32)
        {
            start &= uint.MaxValue;
            end &= uint.MaxValue;
        }

        return new TrafficSelector(protocol, startPort, endPort, AddressValue.ToAddress(prefix.AddressFamily, start), AddressValue.ToAddress(prefix.AddressFamily, end));
    }

    /// <summary>Parses "10.0.0.0/8", "2001:db8::/32" or a single address.</summary>
    public static TrafficSelector Prefix(string cidr, byte protocol = 0, ushort startPort = 0, ushort endPort = ushort.MaxValue)
    {
        var slash = cidr.IndexOf('/');
        var address = IPAddress.Parse(slash < 0 ? cidr : cidr[..slash]);
        var length = slash < 0
            ? (address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128)
            : int.Parse(cidr[(slash + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        return Prefix(address, length, protocol, startPort, endPort);
    }

    /// <summary>An address range, inclusive.</summary>
    public static TrafficSelector Range(IPAddress start, IPAddress end, byte protocol = 0, ushort startPort = 0, ushort endPort = ushort.MaxValue) =>
        new(protocol, startPort, endPort, start, end);

    /// <summary>Every address of the family, any protocol and port.</summary>
    public static TrafficSelector Any(AddressFamily family) =>
        family == AddressFamily.InterNetwork
            ? Prefix(IPAddress.Any, 0)
            : Prefix(IPAddress.IPv6Any, 0);
}
