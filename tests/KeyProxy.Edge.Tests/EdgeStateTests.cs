using System.Net;
using KeyProxy.Abstractions;
using KeyProxy.Edge.Profiles;
using KeyProxy.Edge.Routing;
using KeyProxy.Wire.Ip;

namespace KeyProxy.Edge.Tests;

/// <summary>The profile copy's decisions, the IKE route table and the address pool.</summary>
public sealed class EdgeStateTests
{
    private static IpAddressValue A(string s) => IpAddressValue.FromIPAddress(IPAddress.Parse(s));

    [Fact]
    public void Profile_copy_decides_by_service_peer_traffic_and_role()
    {
        var profile = new EdgeProfile("alice@keyproxy.test", true,
        [
            new ProxyCondition("198.51.100.0/24", 17, 5000, 5999, ProxyRoles.Initiator),
            new ProxyCondition("203.0.113.7/32", 0, 0, 65535, ProxyRoles.Responder),
            new ProxyCondition("2001:db8::/32", 0, 0, 65535, ProxyRoles.Initiator | ProxyRoles.Responder),
        ], 3);
        Assert.Equal(ProxyDecision.Allowed, profile.CheckInitiator(A("198.51.100.9"), 17, 5000, 5100));
        Assert.Equal(ProxyDecision.PeerNotAllowed, profile.CheckInitiator(A("198.51.100.9"), 6, 5000, 5100));
        Assert.Equal(ProxyDecision.PeerNotAllowed, profile.CheckInitiator(A("198.51.100.9"), 17, 4000, 5100));
        Assert.Equal(ProxyDecision.PeerNotAllowed, profile.CheckInitiator(A("198.51.101.9"), 17, 5000, 5000));
        Assert.Equal(ProxyDecision.RoleNotAllowed, profile.CheckResponder(A("198.51.100.9")));
        Assert.Equal(ProxyDecision.Allowed, profile.CheckResponder(A("203.0.113.7")));
        Assert.Equal(ProxyDecision.RoleNotAllowed, profile.CheckInitiator(A("203.0.113.7"), 17, 1, 1));
        Assert.Equal(ProxyDecision.PeerNotAllowed, profile.CheckResponder(A("203.0.113.8")));
        Assert.Equal(ProxyDecision.Allowed, profile.CheckResponder(A("2001:db8:1::5")));
        Assert.Equal(ProxyDecision.PeerNotAllowed, profile.CheckResponder(A("2001:db9::5")));

        var none = new EdgeProfile("bob@keyproxy.test", false, [ProxyCondition.AnyTraffic("0.0.0.0/0")], 1);
        Assert.Equal(ProxyDecision.NotSubscribed, none.CheckInitiator(A("198.51.100.9"), 0, 0, 65535));
        Assert.Equal(ProxyDecision.Allowed, new EdgeProfile("c", true, [ProxyCondition.AnyTraffic("0.0.0.0/0")], 1).CheckResponder(A("8.8.8.8")));
    }

    [Fact]
    public void Routes_belong_to_one_session_and_leave_with_it_or_with_the_handset()
    {
        var table = new IkeRouteTable();
        Guid s1 = Guid.NewGuid(), s2 = Guid.NewGuid();
        Assert.True(table.TryAdd(A("127.0.1.1"), 10, s1));
        Assert.True(table.TryAdd(A("127.0.1.1"), 11, s1)); // a rekeyed IKE SA: a second SPI for the same session
        Assert.True(table.TryAdd(A("127.0.1.1"), 10, s1)); // idempotent
        Assert.False(table.TryAdd(A("127.0.1.1"), 10, s2)); // nobody takes over a route
        Assert.True(table.TryAdd(A("127.0.1.2"), 10, s2)); // same SPI, other handset
        Assert.True(table.TryGet(A("127.0.1.1"), 11, out var found) && found == s1);
        Assert.Equal(2, table.RemoveSession(s1));
        Assert.False(table.TryGet(A("127.0.1.1"), 10, out _));
        Assert.Equal([s2], table.RemoveHandset(A("127.0.1.2")));
        Assert.Equal(0, table.Count);
    }

    [Fact]
    public void A_handsets_sessions_are_found_and_removed_by_its_address_alone()
    {
        var table = new IkeRouteTable();
        Guid s1 = Guid.NewGuid(), s2 = Guid.NewGuid(), other = Guid.NewGuid();
        table.TryAdd(A("127.0.1.1"), 10, s1);
        table.TryAdd(A("127.0.1.1"), 11, s1);
        table.TryAdd(A("127.0.1.1"), 12, s2);
        table.TryAdd(A("127.0.1.2"), 10, other);
        Assert.Equal([s1, s2], table.SessionsOf(A("127.0.1.1")).OrderBy(g => g == s2));
        Assert.Equal(1, table.RemoveSession(s2));
        Assert.Equal([s1], table.SessionsOf(A("127.0.1.1")));
        Assert.Equal([s1], table.RemoveHandset(A("127.0.1.1")));
        Assert.Empty(table.SessionsOf(A("127.0.1.1")));
        Assert.Empty(table.RemoveHandset(A("127.0.1.1")));
        Assert.Equal(0, table.RemoveSession(s1)); // its routes went with the handset
        Assert.True(table.TryGet(A("127.0.1.2"), 10, out var kept) && kept == other);
        Assert.Equal(1, table.Count);
    }

    [Fact]
    public void Pool_hands_out_each_address_once_and_takes_back_released_ones()
    {
        var pool = new HandsetAddressPool("10.9.0.0/30"); // two usable addresses
        Assert.True(pool.TryAllocate(out var first));
        Assert.True(pool.TryAllocate(out var second));
        Assert.Equal(["10.9.0.1", "10.9.0.2"], new[] { first.ToString(), second.ToString() });
        Assert.False(pool.TryAllocate(out _));
        pool.Release(first);
        Assert.True(pool.TryAllocate(out var again));
        Assert.Equal(first, again);
        Assert.Throws<ArgumentException>(() => new HandsetAddressPool("not a prefix"));
    }

    [Fact]
    public void The_tun_path_refuses_a_loopback_pool_and_bad_device_settings_which_the_socket_path_ignores()
    {
        Assert.Empty(new EdgeOptions { AddressPool = "127.0.1.0/24" }.Validate());
        Assert.Empty(new EdgeOptions { PacketPath = EdgePacketPath.Tun, AddressPool = "100.64.0.0/16" }.Validate());
        var loopback = new EdgeOptions { PacketPath = EdgePacketPath.Tun, AddressPool = "127.0.1.0/24" }.Validate();
        Assert.Contains("KeyProxy:Edge:AddressPool 127.0.1.0/24 is loopback", Assert.Single(loopback));
        var device = new EdgeOptions { PacketPath = EdgePacketPath.Tun, AddressPool = "100.64.0.0/16", TunName = "a/b", TunQueues = 0, TunMtu = 576 }.Validate();
        Assert.Equal(3, device.Count);
        Assert.Contains(device, e => e.StartsWith("KeyProxy:Edge:TunName", StringComparison.Ordinal));
        Assert.Contains(device, e => e.StartsWith("KeyProxy:Edge:TunQueues", StringComparison.Ordinal));
        Assert.Contains(device, e => e.StartsWith("KeyProxy:Edge:TunMtu", StringComparison.Ordinal));
    }
}

/// <summary>The edge's instruments reach a System.Diagnostics.Metrics listener with their tags.</summary>
public sealed class EdgeMetricsTests
{
    [Fact]
    public void Packets_drops_and_grain_calls_are_published_on_the_KeyProxy_Edge_meter()
    {
        using var metrics = new EdgeMetrics("edge-metrics-test");
        var seen = new List<(string Instrument, double Value, string Tags)>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == EdgeMetrics.MeterName && instrument.Meter.Tags?.Any(t => t.Value as string == "edge-metrics-test") == true)
                l.EnableMeasurementEvents(instrument);
        };
        void Record(System.Diagnostics.Metrics.Instrument i, double v, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var text = string.Join(",", tags.ToArray().Select(t => $"{t.Key}={t.Value}"));
            lock (seen) seen.Add((i.Name, v, text));
        }
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        listener.Start();

        metrics.Packet(EdgePacketClass.RoutedToNetwork);
        metrics.Drop(EdgeDropReason.Spoofed);
        using (metrics.GrainCall("StartInitiator")) { }

        Assert.Contains(("keyproxy.edge.packets", 1d, "class=routedtonetwork"), seen);
        Assert.Contains(("keyproxy.edge.drops", 1d, "reason=spoofed"), seen);
        Assert.Contains(("keyproxy.edge.grain_calls", 1d, "method=StartInitiator"), seen);
        Assert.Contains(seen, s => s.Instrument == "keyproxy.edge.grain_call.duration" && s.Tags == "method=StartInitiator" && s.Value >= 0);
        Assert.Equal((1, 1, 1), (metrics.Packets(EdgePacketClass.RoutedToNetwork), metrics.Drops(EdgeDropReason.Spoofed), metrics.GrainCalls));
    }
}
