using System.Net;
using System.Net.Sockets;
using KeyProxy.Ipsec.Policy;

namespace KeyProxy.Ipsec.Tests.Policy;

public sealed class SpdTests
{
    private static PacketSelector Out(string source, string destination, byte protocol = 17, ushort sourcePort = 1000, ushort destinationPort = 2000) =>
        PacketSelector.Create(IPAddress.Parse(source), IPAddress.Parse(destination), protocol, sourcePort, destinationPort);

    [Fact]
    public void First_match_in_order_decides_and_no_match_is_discard()
    {
        var spd = new SecurityPolicyDatabase();
        spd.Add(new SecurityPolicy(PolicyAction.Bypass, Selectors.Prefix("10.0.0.0/8"), Selectors.Prefix("192.0.2.53/32", protocol: 17, startPort: 53, endPort: 53), "dns"));
        spd.Add(new SecurityPolicy(PolicyAction.Protect, Selectors.Prefix("10.0.0.0/8"), Selectors.Prefix("192.0.2.0/24"), "vpn"));
        spd.Add(new SecurityPolicy(PolicyAction.Discard, Selectors.Any(AddressFamily.InterNetwork), Selectors.Prefix("198.51.100.0/24"), "blocked"));

        Assert.Equal("dns", spd.LookupOutbound(Out("10.1.2.3", "192.0.2.53", 17, 5555, 53))?.Name);
        Assert.Equal("vpn", spd.LookupOutbound(Out("10.1.2.3", "192.0.2.53", 6, 5555, 53))?.Name);   // TCP: not the DNS bypass
        Assert.Equal("vpn", spd.LookupOutbound(Out("10.1.2.3", "192.0.2.53", 17, 5555, 54))?.Name);  // other port
        Assert.Equal("vpn", spd.LookupOutbound(Out("10.255.255.255", "192.0.2.0"))?.Name);           // prefix edges
        Assert.Equal("blocked", spd.LookupOutbound(Out("172.16.0.1", "198.51.100.7"))?.Name);
        Assert.Null(spd.LookupOutbound(Out("11.0.0.1", "192.0.2.1")));
        Assert.Equal(PolicyAction.Discard, spd.DecideOutbound(TestPackets.Ipv4("11.0.0.1", "192.0.2.1"), out var none));
        Assert.Null(none);
        Assert.Equal(PolicyAction.Protect, spd.DecideOutbound(TestPackets.Ipv4("10.0.0.1", "192.0.2.1"), out var vpn));
        Assert.Equal("vpn", vpn?.Name);

        // Moving the broad rule first changes the decision.
        spd.Insert(0, new SecurityPolicy(PolicyAction.Discard, Selectors.Any(AddressFamily.InterNetwork), Selectors.Any(AddressFamily.InterNetwork), "all"));
        Assert.Equal("all", spd.LookupOutbound(Out("10.1.2.3", "192.0.2.53", 17, 5555, 53))?.Name);
    }

    [Fact]
    public void Address_ranges_and_port_ranges_are_inclusive()
    {
        var spd = new SecurityPolicyDatabase();
        spd.Add(new SecurityPolicy(PolicyAction.Protect,
            Selectors.Range(IPAddress.Parse("10.0.0.10"), IPAddress.Parse("10.0.0.20")),
            Selectors.Range(IPAddress.Parse("10.9.0.0"), IPAddress.Parse("10.9.0.0"), protocol: 6, startPort: 8000, endPort: 8080)));
        Assert.NotNull(spd.LookupOutbound(Out("10.0.0.10", "10.9.0.0", 6, 1, 8000)));
        Assert.NotNull(spd.LookupOutbound(Out("10.0.0.20", "10.9.0.0", 6, 1, 8080)));
        Assert.Null(spd.LookupOutbound(Out("10.0.0.21", "10.9.0.0", 6, 1, 8080)));
        Assert.Null(spd.LookupOutbound(Out("10.0.0.9", "10.9.0.0", 6, 1, 8080)));
        Assert.Null(spd.LookupOutbound(Out("10.0.0.15", "10.9.0.0", 6, 1, 8081)));
        Assert.Null(spd.LookupOutbound(Out("10.0.0.15", "10.9.0.1", 6, 1, 8000)));
    }

    [Fact]
    public void Inbound_lookup_swaps_the_sides()
    {
        var spd = new SecurityPolicyDatabase();
        spd.Add(new SecurityPolicy(PolicyAction.Protect, Selectors.Prefix("10.0.0.0/24", startPort: 22, endPort: 22, protocol: 6), Selectors.Prefix("192.0.2.0/24", protocol: 6)));
        Assert.NotNull(spd.LookupInbound(Out("192.0.2.9", "10.0.0.5", 6, 40000, 22)));
        Assert.Null(spd.LookupOutbound(Out("192.0.2.9", "10.0.0.5", 6, 40000, 22)));
        Assert.Equal(PolicyAction.Protect, spd.DecideInbound(TestPackets.Ipv4("192.0.2.9", "10.0.0.5", 6, 40000, 22), out _));
    }

    [Fact]
    public void Packets_without_ports_only_match_full_port_ranges()
    {
        var spd = new SecurityPolicyDatabase();
        spd.Add(new SecurityPolicy(PolicyAction.Bypass, Selectors.Prefix("10.0.0.0/8"), Selectors.Prefix("0.0.0.0/0", startPort: 80, endPort: 80), "web"));
        spd.Add(new SecurityPolicy(PolicyAction.Protect, Selectors.Prefix("10.0.0.0/8"), Selectors.Prefix("0.0.0.0/0", protocol: 1), "icmp"));
        var icmp = TestPackets.Ipv4("10.0.0.1", "8.8.8.8", protocol: 1);
        Assert.Equal(PolicyAction.Protect, spd.DecideOutbound(icmp, out var policy));
        Assert.Equal("icmp", policy?.Name);
    }

    [Fact]
    public void Ipv6_prefixes_match_and_families_never_mix()
    {
        var spd = new SecurityPolicyDatabase();
        spd.Add(new SecurityPolicy(PolicyAction.Protect, Selectors.Prefix("2001:db8:1::/48"), Selectors.Prefix("2001:db8:2::/48")));
        Assert.Equal(PolicyAction.Protect, spd.DecideOutbound(TestPackets.Ipv6("2001:db8:1:ffff::1", "2001:db8:2::9"), out _));
        Assert.Equal(PolicyAction.Discard, spd.DecideOutbound(TestPackets.Ipv6("2001:db8:3::1", "2001:db8:2::9"), out _));
        Assert.Equal(PolicyAction.Discard, spd.DecideOutbound(TestPackets.Ipv4("10.0.0.1", "10.0.0.2"), out _));
    }

    [Fact]
    public void The_packet_reader_finds_ports_behind_ipv6_extension_headers_and_not_in_later_fragments()
    {
        var packet = TestPackets.Ipv6("2001:db8::1", "2001:db8::2", protocol: 0, totalLength: 40 + 8 + 8);
        packet[40] = 17;  // hop-by-hop -> UDP
        packet[41] = 0;   // 8 bytes
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(48), 4500);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(50), 500);
        Assert.True(PacketSelector.TryRead(packet, out var selector));
        Assert.Equal(17, selector.Protocol);
        Assert.True(selector.HasPorts);
        Assert.Equal(4500, selector.SourcePort);
        Assert.Equal(500, selector.DestinationPort);

        var fragment = TestPackets.Ipv4("10.0.0.1", "10.0.0.2");
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(fragment.AsSpan(6), 185); // offset != 0
        Assert.True(PacketSelector.TryRead(fragment, out var later));
        Assert.False(later.HasPorts);

        Assert.False(PacketSelector.TryRead([], out _));
        Assert.False(PacketSelector.TryRead([0x45, 0, 0], out _));
        Assert.False(PacketSelector.TryRead(new byte[39].Select(_ => (byte)0x60).ToArray(), out _));
        Assert.False(PacketSelector.TryRead([0x15, 0, 0, 0], out _));
    }

    [Fact]
    public void Lookups_allocate_nothing()
    {
        var spd = new SecurityPolicyDatabase();
        for (var i = 0; i < 20; i++)
        {
            spd.Add(new SecurityPolicy(PolicyAction.Protect, Selectors.Prefix($"10.{i}.0.0/16"), Selectors.Prefix("192.0.2.0/24")));
        }

        var packet = TestPackets.Ipv4("10.19.0.1", "192.0.2.1");
        var found = 0;
        // Warm-up rounds let tiered compilation and on-stack replacement settle (they allocate once, on this
        // thread); the last round is the steady state and must allocate nothing.
        long allocated = -1;
        for (var round = 0; round < 3; round++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            found += LookUp(spd, packet, 10_000);
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }

        Assert.Equal(0, allocated);
        Assert.Equal(30_000, found);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static int LookUp(SecurityPolicyDatabase spd, byte[] packet, int times)
    {
        var found = 0;
        for (var i = 0; i < times; i++)
        {
            found += spd.DecideOutbound(packet, out _) == PolicyAction.Protect ? 1 : 0;
        }

        return found;
    }
}
