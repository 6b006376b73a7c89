using System.Net;
using KeyProxy.Ipsec.Esp;
using KeyProxy.Ipsec.Policy;
using KeyProxy.Primitives;

namespace KeyProxy.Ipsec.Tests.Policy;

public sealed class SadTests
{
    private static readonly TrafficSelector HandsetNet = Selectors.Prefix("10.0.0.0/24");
    private static readonly TrafficSelector PeerNet = Selectors.Prefix("192.0.2.0/24");

    /// <summary>One end's view of a CHILD_SA: what it receives with, what it sends with.</summary>
    private sealed record ChildSa(EspSaParameters Inbound, EspSaParameters Outbound);

    /// <summary>The CHILD_SA both ends would get from IKE: A's inbound is B's outbound; soft time 50 minutes, hard 60.</summary>
    private static (ChildSa A, ChildSa B) ChildSas(uint spiA, uint spiB, int seed, EspSuite suite)
    {
        var random = new Random(seed);
        byte[] Key(int length)
        {
            var key = new byte[length];
            random.NextBytes(key);
            return key;
        }

        var aToB = (Key(suite.EncryptionKeyMaterialLength), Key(suite.IntegrityKeyLength));
        var bToA = (Key(suite.EncryptionKeyMaterialLength), Key(suite.IntegrityKeyLength));
        EspSaParameters Direction(uint spi, (byte[] Encryption, byte[] Integrity) keys, TrafficSelector local, TrafficSelector remote) => new()
        {
            Spi = spi,
            Suite = suite,
            EncryptionKey = keys.Encryption,
            IntegrityKey = keys.Integrity,
            Mode = ChildSaMode.Tunnel,
            Lifetime = new SaLifetime { SoftTime = TimeSpan.FromMinutes(50), HardTime = TimeSpan.FromMinutes(60) },
            LocalSelectors = [local],
            RemoteSelectors = [remote],
        };

        return (
            new ChildSa(Direction(spiA, bToA, HandsetNet, PeerNet), Direction(spiB, aToB, HandsetNet, PeerNet)),
            new ChildSa(Direction(spiB, aToB, PeerNet, HandsetNet), Direction(spiA, bToA, PeerNet, HandsetNet)));
    }

    private static EspSaPair Install(SecurityAssociationDatabase sad, ChildSa sa, DateTimeOffset now) => sad.Install(sa.Inbound, sa.Outbound, now);

    [Fact]
    public void Pairs_built_from_child_sas_talk_to_each_other_through_their_sads()
    {
        var (a, b) = ChildSas(0xA000_0001, 0xB000_0001, 1, TestSas.Cbc128Sha256);
        var sadA = new SecurityAssociationDatabase();
        var sadB = new SecurityAssociationDatabase();
        var pairA = Install(sadA, a, TestSas.T0);
        Install(sadB, b, TestSas.T0);
        Assert.Equal(TimeSpan.FromMinutes(50), pairA.Outbound.Lifetime.SoftTime);
        Assert.Equal(TimeSpan.FromMinutes(60), pairA.Inbound.Lifetime.HardTime);

        var inner = TestPackets.Ipv4("10.0.0.7", "192.0.2.9");
        var esp = new byte[2000];
        var sent = sadA.Encrypt(inner, esp, TestSas.T0);
        Assert.Equal(EspStatus.Ok, sent.Status);
        Assert.True(EspPacket.TryReadSpi(esp, out var spi));
        Assert.Equal(0xB000_0001u, spi);
        var clear = new byte[2000];
        var received = sadB.Decrypt(esp.AsSpan(0, sent.BytesWritten), clear, TestSas.T0);
        Assert.Equal(EspStatus.Ok, received.Status);
        Assert.Equal(inner, clear[..received.BytesWritten]);
        Assert.True(sadB.TryGetInbound(0xB000_0001, out var inbound));
        Assert.True(PacketSelector.TryRead(clear.AsSpan(0, received.BytesWritten), out var selector));
        Assert.True(inbound.Covers(selector, localIsSource: false));

        // And back.
        var reply = TestPackets.Ipv4("192.0.2.9", "10.0.0.7");
        sent = sadB.Encrypt(reply, esp, TestSas.T0);
        Assert.Equal(EspStatus.Ok, sadA.Decrypt(esp.AsSpan(0, sent.BytesWritten), clear, TestSas.T0).Status);
        Assert.Equal(1, pairA.PacketsIn);
        Assert.Equal(1, pairA.PacketsOut);

        // Traffic outside the selectors finds no SA.
        Assert.Equal(EspStatus.NoSa, sadA.Encrypt(TestPackets.Ipv4("10.0.1.7", "192.0.2.9"), esp, TestSas.T0).Status);
        Assert.Equal(1, sadA.NoSaDrops);
    }

    [Fact]
    public void Rekey_overlap_switches_outbound_to_the_newest_and_keeps_the_old_inbound_until_removed()
    {
        var (oldA, oldB) = ChildSas(0xA000_0001, 0xB000_0001, 1, TestSas.Gcm128);
        var (newA, newB) = ChildSas(0xA000_0002, 0xB000_0002, 2, TestSas.Gcm128);
        var sadA = new SecurityAssociationDatabase();
        var sadB = new SecurityAssociationDatabase();
        Install(sadA, oldA, TestSas.T0);
        var oldPairB = Install(sadB, oldB, TestSas.T0);
        var inner = TestPackets.Ipv4("10.0.0.7", "192.0.2.9");
        var esp = new byte[2000];
        var clear = new byte[2000];

        // A packet sent on the old SA is still in flight when the rekey happens.
        var inFlight = sadA.Encrypt(inner, esp, TestSas.T0);
        var inFlightPacket = esp[..inFlight.BytesWritten];

        Install(sadA, newA, TestSas.T0.AddMinutes(50));
        Install(sadB, newB, TestSas.T0.AddMinutes(50));
        Assert.True(PacketSelector.TryRead(inner, out var selector));
        Assert.Equal(0xB000_0002u, sadA.FindOutbound(selector)?.Spi);

        var sent = sadA.Encrypt(inner, esp, TestSas.T0.AddMinutes(51));
        Assert.True(EspPacket.TryReadSpi(esp, out var spi));
        Assert.Equal(0xB000_0002u, spi);
        Assert.Equal(EspStatus.Ok, sadB.Decrypt(esp.AsSpan(0, sent.BytesWritten), clear, TestSas.T0.AddMinutes(51)).Status);
        Assert.Equal(EspStatus.Ok, sadB.Decrypt(inFlightPacket, clear, TestSas.T0.AddMinutes(51)).Status);

        sadB.Remove(oldPairB);
        oldPairB.Dispose();
        Assert.Equal(EspStatus.NoSa, sadB.Decrypt(inFlightPacket, clear, TestSas.T0.AddMinutes(52)).Status);
        Assert.Single(sadB.OutboundSas);
        Assert.Single(sadB.InboundSas);
    }

    [Fact]
    public void An_expired_newer_sa_yields_to_a_live_older_one_and_tick_reports_crossings()
    {
        var sad = new SecurityAssociationDatabase();
        var p1 = TestSas.Parameters(TestSas.Gcm128, spi: 1);
        var live = new OutboundEspSa(new EspSaParameters { Spi = 1, Suite = p1.Suite, EncryptionKey = p1.EncryptionKey, LocalSelectors = [HandsetNet], RemoteSelectors = [PeerNet] }, TestSas.T0);
        var p2 = TestSas.Parameters(TestSas.Gcm128, spi: 2);
        var shortLived = new OutboundEspSa(new EspSaParameters { Spi = 2, Suite = p2.Suite, EncryptionKey = p2.EncryptionKey, LocalSelectors = [HandsetNet], RemoteSelectors = [PeerNet], Lifetime = new SaLifetime { SoftTime = TimeSpan.FromSeconds(5), HardTime = TimeSpan.FromSeconds(10) } }, TestSas.T0);
        sad.Add(live);
        sad.Add(shortLived);
        var selector = PacketSelector.Create(IPAddress.Parse("10.0.0.1"), IPAddress.Parse("192.0.2.1"), 17, 1, 2);
        Assert.Equal(2u, sad.FindOutbound(selector)?.Spi);

        var notices = new List<SaLifetimeNotice>();
        Assert.Equal(1, sad.Tick(TestSas.T0.AddSeconds(5), notices));
        Assert.Equal(LifetimeEvents.SoftLimitReached, notices[0].Events);
        Assert.Equal(1, sad.Tick(TestSas.T0.AddSeconds(10), notices));
        Assert.Equal(LifetimeEvents.HardLimitReached, notices[1].Events);
        Assert.Equal(0, sad.Tick(TestSas.T0.AddSeconds(11), notices));
        Assert.Equal(1u, sad.FindOutbound(selector)?.Spi);

        Assert.True(sad.RemoveOutbound(1));
        Assert.Equal(2u, sad.FindOutbound(selector)?.Spi); // only the expired one is left: returned, and it refuses
        Assert.Equal(EspStatus.Expired, sad.Encrypt(TestPackets.Ipv4("10.0.0.1", "192.0.2.1"), new byte[500], TestSas.T0.AddSeconds(12)).Status);
    }

    [Fact]
    public void Duplicate_inbound_spis_are_refused()
    {
        var sad = new SecurityAssociationDatabase();
        var (_, r1) = TestSas.Pair(TestSas.Gcm128, spi: 7);
        var (_, r2) = TestSas.Pair(TestSas.Gcm128, spi: 7);
        Assert.True(sad.Add(r1));
        Assert.False(sad.Add(r2));
        Assert.True(sad.TryGetInbound(7, out var found));
        Assert.Same(r1, found);
        Assert.True(sad.RemoveInbound(7));
        Assert.False(sad.TryGetInbound(7, out _));
    }
}
