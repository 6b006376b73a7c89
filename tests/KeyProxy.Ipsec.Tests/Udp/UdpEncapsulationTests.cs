using KeyProxy.Ipsec.Udp;

namespace KeyProxy.Ipsec.Tests.Udp;

public sealed class UdpEncapsulationTests
{
    [Fact]
    public void Classifies_keepalive_ike_and_esp()
    {
        Assert.Equal(NatTPayloadKind.NatKeepalive, UdpEncapsulation.Classify([0xFF]));
        Assert.Equal(NatTPayloadKind.Malformed, UdpEncapsulation.Classify([0x00]));
        Assert.Equal(NatTPayloadKind.Malformed, UdpEncapsulation.Classify([]));
        Assert.Equal(NatTPayloadKind.Malformed, UdpEncapsulation.Classify([1, 2, 3]));
        var ike = new byte[4 + 28];
        ike[4] = 0x11;
        Assert.Equal(NatTPayloadKind.Ike, UdpEncapsulation.Classify(ike));
        Assert.Equal(28, UdpEncapsulation.IkeMessage(ike).Length);
        Assert.Equal(0x11, UdpEncapsulation.IkeMessage(ike)[0]);
        Assert.Equal(NatTPayloadKind.Malformed, UdpEncapsulation.Classify(new byte[4 + 27]));
        Assert.Equal(NatTPayloadKind.Esp, UdpEncapsulation.Classify([0, 0, 0, 1, 0, 0, 0, 1]));
        Assert.Equal(NatTPayloadKind.Malformed, UdpEncapsulation.Classify([0, 0, 0, 1, 0, 0, 0]));
        Assert.True(UdpEncapsulation.IkeMessage([0, 0, 0, 1, 0, 0, 0, 1]).IsEmpty);
    }

    [Fact]
    public void Esp_from_an_sa_classifies_as_esp()
    {
        var (sender, _) = TestSas.Pair(TestSas.Gcm128);
        var packet = TestSas.Seal(sender, TestPackets.Ipv4("10.0.0.1", "10.0.0.2"), 4);
        Assert.Equal(NatTPayloadKind.Esp, UdpEncapsulation.Classify(packet));
    }

    [Fact]
    public void Builds_keepalive_and_marked_ike()
    {
        var buffer = new byte[40];
        Assert.Equal(1, UdpEncapsulation.WriteNatKeepalive(buffer));
        Assert.Equal(0xFF, buffer[0]);
        Assert.Equal(0, UdpEncapsulation.WriteNatKeepalive([]));
        var ike = Enumerable.Range(1, 28).Select(i => (byte)i).ToArray();
        Assert.Equal(32, UdpEncapsulation.WriteIke(ike, buffer));
        Assert.Equal(NatTPayloadKind.Ike, UdpEncapsulation.Classify(buffer.AsSpan(0, 32)));
        Assert.Equal(0, UdpEncapsulation.WriteIke(ike, new byte[31]));
    }

    [Fact]
    public void Keepalive_is_due_after_the_interval_since_the_last_packet_sent()
    {
        var schedule = new NatKeepaliveSchedule();
        Assert.Equal(TimeSpan.FromSeconds(20), schedule.Interval);
        var last = TestSas.T0;
        Assert.False(schedule.IsDue(last, last.AddSeconds(19.9)));
        Assert.True(schedule.IsDue(last, last.AddSeconds(20)));
        Assert.Equal(last.AddSeconds(20), schedule.DueAt(last));
        var fast = new NatKeepaliveSchedule(TimeSpan.FromSeconds(5));
        Assert.True(fast.IsDue(last, last.AddSeconds(5)));
        Assert.False(new NatKeepaliveSchedule(TimeSpan.Zero).IsDue(last, last.AddHours(1)));
    }
}
