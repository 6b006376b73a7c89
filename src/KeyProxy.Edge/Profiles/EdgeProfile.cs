using KeyProxy.Abstractions;
using KeyProxy.Wire.Ip;

namespace KeyProxy.Edge.Profiles;

/// <summary>
/// The copy of a subscriber's service profile an edge keeps while the handset is attached there
/// (seed: the service control device's profile table, pushed by the authentication server). It
/// holds only what classification needs, no secrets, so checks cost no grain call.
/// </summary>
public sealed class EdgeProfile
{
    private readonly EdgeCondition[] _conditions;

    public EdgeProfile(string nai, bool proxyService, IReadOnlyList<ProxyCondition> conditions, int version)
    {
        Nai = nai;
        ProxyService = proxyService;
        Version = version;
        var compiled = new List<EdgeCondition>(conditions.Count);
        foreach (var c in conditions)
            if (EdgeCondition.TryCompile(c, out var e)) compiled.Add(e);
        _conditions = compiled.ToArray();
    }

    public string Nai { get; }

    public bool ProxyService { get; }

    public int Version { get; }

    public static EdgeProfile From(SubscriberProfile profile) => new(profile.Nai, profile.ProxyService, profile.Conditions, profile.Version);

    public static EdgeProfile From(EdgeProfileCopy copy) => new(copy.Nai, copy.ProxyService, copy.Conditions, copy.Version);

    /// <summary>S21: may the proxy initiate towards <paramref name="peer"/> for this traffic?</summary>
    public ProxyDecision CheckInitiator(in IpAddressValue peer, byte protocol, ushort startPort, ushort endPort) =>
        Check(peer, ProxyRoles.Initiator, protocol, startPort, endPort, checkTraffic: true);

    /// <summary>S22: may the proxy answer an IKE_SA_INIT from <paramref name="peer"/>? (Traffic selectors are narrowed later by the session.)</summary>
    public ProxyDecision CheckResponder(in IpAddressValue peer) => Check(peer, ProxyRoles.Responder, 0, 0, 0, checkTraffic: false);

    private ProxyDecision Check(in IpAddressValue peer, ProxyRoles role, byte protocol, ushort startPort, ushort endPort, bool checkTraffic)
    {
        if (!ProxyService) return ProxyDecision.NotSubscribed;
        var decision = ProxyDecision.PeerNotAllowed;
        foreach (ref readonly var c in _conditions.AsSpan())
        {
            if (!c.CoversPeer(peer) || checkTraffic && !c.CoversTraffic(protocol, startPort, endPort)) continue;
            if ((c.Roles & role) != 0) return ProxyDecision.Allowed;
            decision = ProxyDecision.RoleNotAllowed;
        }
        return decision;
    }

    public override string ToString() => $"EdgeProfile {Nai} v{Version} proxy={ProxyService} conditions={_conditions.Length}";
}
