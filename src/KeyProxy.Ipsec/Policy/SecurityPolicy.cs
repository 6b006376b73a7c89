using KeyProxy.Primitives;

namespace KeyProxy.Ipsec.Policy;

/// <summary>
/// One SPD entry (RFC 4301 4.4.1.2): selectors for this node's side and the peer's side (address range, protocol,
/// ports) and an action. Compiled once at construction; matching allocates nothing.
/// </summary>
public sealed class SecurityPolicy
{
    private readonly CompiledSelector[] _local;
    private readonly CompiledSelector[] _remote;

    public SecurityPolicy(PolicyAction action, TrafficSelector local, TrafficSelector remote, string? name = null)
    {
        Action = action;
        Local = local;
        Remote = remote;
        Name = name;
        _local = [CompiledSelector.Compile(local)];
        _remote = [CompiledSelector.Compile(remote)];
    }

    public PolicyAction Action { get; }

    public TrafficSelector Local { get; }

    public TrafficSelector Remote { get; }

    public string? Name { get; }

    /// <summary>True when the packet matches; <paramref name="outbound"/> says whether its source is this node's side.</summary>
    public bool Matches(in PacketSelector packet, bool outbound) => CompiledSelector.Covers(_local, _remote, packet, outbound);

    public override string ToString() => $"{Name ?? "policy"}: {Action} {Local.StartAddress}-{Local.EndAddress} <-> {Remote.StartAddress}-{Remote.EndAddress}";
}
