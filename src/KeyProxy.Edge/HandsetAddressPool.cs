using System.Net;
using KeyProxy.Abstractions;
using KeyProxy.Wire.Ip;

namespace KeyProxy.Edge;

/// <summary>The edge's pool of handset addresses (DESIGN, Network side): the next free host address of a prefix.</summary>
public sealed class HandsetAddressPool
{
    private readonly Lock _gate = new();
    private readonly HashSet<UInt128> _used = [];
    private readonly IpFamily _family;
    private readonly UInt128 _first;
    private readonly UInt128 _last;
    private UInt128 _next;

    public HandsetAddressPool(string prefix)
    {
        if (!NetworkPrefix.TryParse(prefix, out var network, out var error))
            throw new ArgumentException($"address pool {error}", nameof(prefix));
        var start = IpAddressValue.FromIPAddress(network.BaseAddress);
        int bits = start.Family == IpFamily.V4 ? 32 : 128;
        UInt128 size = network.PrefixLength == 0 ? (bits == 32 ? (UInt128)uint.MaxValue + 1 : UInt128.MaxValue) : UInt128.One << (bits - network.PrefixLength);
        _family = start.Family;
        // Skip the network address (and, for IPv4 prefixes with room, the broadcast address).
        _first = size > 2 ? start.Value + 1 : start.Value;
        _last = size > 2 ? start.Value + size - 2 : start.Value + size - 1;
        _next = _first;
    }

    public int InUse { get { lock (_gate) return _used.Count; } }

    public bool TryAllocate(out IPAddress address)
    {
        lock (_gate)
        {
            for (UInt128 tried = 0; tried <= _last - _first; tried++)
            {
                var candidate = _next;
                _next = _next == _last ? _first : _next + 1;
                if (_used.Add(candidate))
                {
                    address = new IpAddressValue(_family, candidate).ToIPAddress();
                    return true;
                }
            }
        }
        address = IPAddress.None;
        return false;
    }

    public void Release(IPAddress address)
    {
        lock (_gate) _used.Remove(IpAddressValue.FromIPAddress(address).Value);
    }
}
