using KeyProxy.Abstractions;
using KeyProxy.Wire.Ip;

namespace KeyProxy.Edge.Profiles;

/// <summary>
/// One IPsec application condition of a profile copy, compiled for the edge: the peer range as
/// numbers (IPv4 in the low 32 bits, like <see cref="IpAddressValue"/>), protocol (0 any), ports
/// and the roles the proxy may take for it.
/// </summary>
public readonly record struct EdgeCondition(IpFamily Family, UInt128 Start, UInt128 End, byte Protocol, ushort StartPort, ushort EndPort, ProxyRoles Roles)
{
    public bool CoversPeer(in IpAddressValue peer) => peer.Family == Family && peer.Value >= Start && peer.Value <= End;

    /// <summary>Whether a request for <paramref name="protocol"/> and ports inside <paramref name="startPort"/>-<paramref name="endPort"/> fits.</summary>
    public bool CoversTraffic(byte protocol, ushort startPort, ushort endPort) =>
        (Protocol == 0 || Protocol == protocol) && startPort >= StartPort && endPort <= EndPort;

    /// <summary>Compiles a profile's condition; false when its prefix does not parse (the validator prevents that).</summary>
    public static bool TryCompile(ProxyCondition condition, out EdgeCondition compiled)
    {
        compiled = default;
        if (!NetworkPrefix.TryParse(condition.PeerPrefix, out var network, out _))
            return false;
        var first = IpAddressValue.FromIPAddress(network.BaseAddress);
        int bits = first.Family == IpFamily.V4 ? 32 : 128;
        UInt128 hostMask = network.PrefixLength == 0 ? (bits == 32 ? uint.MaxValue : UInt128.MaxValue)
            : (bits == 32 ? (UInt128)(uint.MaxValue >> network.PrefixLength) : UInt128.MaxValue >> network.PrefixLength);
        if (network.PrefixLength == bits) hostMask = 0;
        compiled = new EdgeCondition(first.Family, first.Value, first.Value | hostMask, condition.Protocol, condition.StartPort, condition.EndPort, condition.Roles);
        return true;
    }
}
