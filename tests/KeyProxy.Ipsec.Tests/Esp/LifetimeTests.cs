using KeyProxy.Ipsec.Esp;

namespace KeyProxy.Ipsec.Tests.Esp;

public sealed class LifetimeTests
{
    private static readonly byte[] Inner = TestPackets.Ipv4("10.0.0.1", "10.0.0.2", totalLength: 100);

    [Fact]
    public void Packet_limits_report_soft_once_then_hard_and_refuse()
    {
        var lifetime = new SaLifetime { SoftPackets = 3, HardPackets = 5 };
        var (sender, receiver) = TestSas.Pair(TestSas.Gcm128, lifetime: lifetime);
        var buffer = new byte[400];
        var events = new List<LifetimeEvents>();
        for (var i = 0; i < 5; i++)
        {
            var result = sender.Encrypt(Inner, buffer, TestSas.T0);
            Assert.Equal(EspStatus.Ok, result.Status);
            events.Add(result.Lifetime);
            Assert.Equal(EspStatus.Ok, receiver.Decrypt(buffer.AsSpan(0, result.BytesWritten), new byte[400], TestSas.T0).Status);
        }

        Assert.Equal([LifetimeEvents.None, LifetimeEvents.None, LifetimeEvents.SoftLimitReached, LifetimeEvents.None, LifetimeEvents.HardLimitReached], events);
        Assert.True(sender.RekeyWanted);
        Assert.True(sender.IsExpired);
        Assert.True(receiver.IsExpired);
        var refused = sender.Encrypt(Inner, buffer, TestSas.T0);
        Assert.Equal(EspStatus.Expired, refused.Status);
        Assert.Equal(LifetimeEvents.None, refused.Lifetime);
        Assert.Equal(1, sender.Counters.ExpiredDrops);
        Assert.Equal(5, sender.Counters.Packets);
    }

    [Fact]
    public void Byte_limits_count_protected_payload_bytes()
    {
        var lifetime = new SaLifetime { SoftBytes = 250, HardBytes = 400 };
        var (sender, receiver) = TestSas.Pair(TestSas.Cbc128Sha256, lifetime: lifetime);
        var packets = Enumerable.Range(0, 4).Select(_ => new byte[sender.GetEncryptedLength(Inner.Length)]).ToArray();
        var results = packets.Select(p => sender.Encrypt(Inner, p, TestSas.T0)).ToArray();
        Assert.Equal(LifetimeEvents.None, results[1].Lifetime);               // 200 bytes
        Assert.Equal(LifetimeEvents.SoftLimitReached, results[2].Lifetime);   // 300
        Assert.Equal(LifetimeEvents.HardLimitReached, results[3].Lifetime);   // 400
        Assert.Equal(EspStatus.Expired, sender.Encrypt(Inner, new byte[400], TestSas.T0).Status);

        var inbound = packets.Select(p => receiver.Decrypt(p, new byte[400], TestSas.T0)).ToArray();
        Assert.Equal(LifetimeEvents.SoftLimitReached, inbound[2].Lifetime);
        Assert.Equal(LifetimeEvents.HardLimitReached, inbound[3].Lifetime);
        Assert.Equal(400, receiver.Counters.Bytes);
    }

    [Fact]
    public void Soft_and_hard_reached_together_are_both_reported()
    {
        var (sender, _) = TestSas.Pair(TestSas.Gcm128, lifetime: new SaLifetime { SoftPackets = 1, HardPackets = 1 });
        var result = sender.Encrypt(Inner, new byte[400], TestSas.T0);
        Assert.Equal(LifetimeEvents.SoftLimitReached | LifetimeEvents.HardLimitReached, result.Lifetime);
    }

    [Fact]
    public void Time_limits_are_reported_by_tick_once_and_on_packets()
    {
        var lifetime = new SaLifetime { SoftTime = TimeSpan.FromMinutes(50), HardTime = TimeSpan.FromMinutes(60) };
        var (sender, receiver) = TestSas.Pair(TestSas.Gcm128, lifetime: lifetime);
        Assert.Equal(LifetimeEvents.None, sender.Tick(TestSas.T0.AddMinutes(49)));
        Assert.Equal(LifetimeEvents.SoftLimitReached, sender.Tick(TestSas.T0.AddMinutes(50)));
        Assert.Equal(LifetimeEvents.None, sender.Tick(TestSas.T0.AddMinutes(55)));
        Assert.True(sender.RekeyWanted);

        // Still usable between soft and hard.
        var packet = new byte[400];
        var sent = sender.Encrypt(Inner, packet, TestSas.T0.AddMinutes(55));
        Assert.Equal(EspStatus.Ok, sent.Status);
        Assert.Equal(LifetimeEvents.None, sent.Lifetime);

        // The receiver learns of its soft limit from the packet itself.
        var received = receiver.Decrypt(packet.AsSpan(0, sent.BytesWritten), new byte[400], TestSas.T0.AddMinutes(55));
        Assert.Equal(EspStatus.Ok, received.Status);
        Assert.Equal(LifetimeEvents.SoftLimitReached, received.Lifetime);

        // Hard: a packet at 60 minutes is refused and reports the crossing.
        var late = sender.Encrypt(Inner, packet, TestSas.T0.AddMinutes(60));
        Assert.Equal(EspStatus.Expired, late.Status);
        Assert.Equal(LifetimeEvents.HardLimitReached, late.Lifetime);
        Assert.Equal(LifetimeEvents.HardLimitReached, receiver.Tick(TestSas.T0.AddMinutes(61)));
        Assert.Equal(LifetimeEvents.None, receiver.Tick(TestSas.T0.AddMinutes(62)));
        Assert.Equal(EspStatus.Expired, receiver.Decrypt(packet.AsSpan(0, sent.BytesWritten), new byte[400], TestSas.T0.AddMinutes(62)).Status);
        Assert.Equal(1, receiver.Counters.ExpiredDrops);
    }

    [Fact]
    public void Forged_packets_do_not_consume_the_lifetime()
    {
        var (sender, receiver) = TestSas.Pair(TestSas.Gcm128, lifetime: new SaLifetime { HardPackets = 1 });
        var packet = TestSas.Seal(sender, Inner, 4);
        var forged = (byte[])packet.Clone();
        forged[^3] ^= 4;
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(EspStatus.IntegrityFailure, TestSas.Open(receiver, forged, out _).Status);
        }

        Assert.False(receiver.IsExpired);
        Assert.Equal(EspStatus.Ok, TestSas.Open(receiver, packet, out _).Status);
        Assert.True(receiver.IsExpired);
    }
}
