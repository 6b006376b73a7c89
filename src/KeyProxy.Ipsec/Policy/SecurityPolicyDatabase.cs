namespace KeyProxy.Ipsec.Policy;

/// <summary>
/// An ordered SPD (RFC 4301 4.4.1): the first matching policy decides; no match means discard. Lookups are
/// lock-free and allocation-free over a copy-on-write array; changes take a lock and publish a new array.
/// </summary>
public sealed class SecurityPolicyDatabase
{
    private readonly Lock _gate = new();
    private volatile SecurityPolicy[] _policies = [];

    /// <summary>Policies in decision order.</summary>
    public IReadOnlyList<SecurityPolicy> Policies => _policies;

    /// <summary>Appends a policy (lowest priority so far).</summary>
    public void Add(SecurityPolicy policy) => Insert(int.MaxValue, policy);

    /// <summary>Inserts at <paramref name="index"/> (clamped to the end).</summary>
    public void Insert(int index, SecurityPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        lock (_gate)
        {
            var list = new List<SecurityPolicy>(_policies);
            list.Insert(Math.Clamp(index, 0, list.Count), policy);
            _policies = [.. list];
        }
    }

    public bool Remove(SecurityPolicy policy)
    {
        lock (_gate)
        {
            var list = new List<SecurityPolicy>(_policies);
            var removed = list.Remove(policy);
            _policies = [.. list];
            return removed;
        }
    }

    /// <summary>First policy matching a packet this node sends; null when none (treat as discard).</summary>
    public SecurityPolicy? LookupOutbound(in PacketSelector packet) => Lookup(packet, outbound: true);

    /// <summary>First policy matching a packet this node received; null when none (treat as discard).</summary>
    public SecurityPolicy? LookupInbound(in PacketSelector packet) => Lookup(packet, outbound: false);

    /// <summary>Decision for an outbound IP packet: the matching policy's action, Discard when none matches or the packet is unreadable.</summary>
    public PolicyAction DecideOutbound(ReadOnlySpan<byte> ipPacket, out SecurityPolicy? policy) => Decide(ipPacket, outbound: true, out policy);

    /// <summary>Decision for an inbound (clear or decrypted inner) IP packet.</summary>
    public PolicyAction DecideInbound(ReadOnlySpan<byte> ipPacket, out SecurityPolicy? policy) => Decide(ipPacket, outbound: false, out policy);

    private PolicyAction Decide(ReadOnlySpan<byte> ipPacket, bool outbound, out SecurityPolicy? policy)
    {
        policy = PacketSelector.TryRead(ipPacket, out var selector) ? Lookup(selector, outbound) : null;
        return policy?.Action ?? PolicyAction.Discard;
    }

    private SecurityPolicy? Lookup(in PacketSelector packet, bool outbound)
    {
        foreach (var policy in _policies)
        {
            if (policy.Matches(packet, outbound))
            {
                return policy;
            }
        }

        return null;
    }
}
