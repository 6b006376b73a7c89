using KeyProxy.Ipsec.Esp;

namespace KeyProxy.Ipsec.Tests.Esp;

/// <summary>Anti-replay through the SAs (RFC 4303 3.4.3): check before the ICV, update after it.</summary>
public sealed class AntiReplayTests
{
    private static readonly byte[] Inner = TestPackets.Ipv4("10.0.0.1", "10.0.0.2");

    [Fact]
    public void Replayed_packet_is_dropped_and_counted_as_replay()
    {
        var (sender, receiver) = TestSas.Pair(TestSas.Gcm128);
        var packet = TestSas.Seal(sender, Inner, 4);
        Assert.Equal(EspStatus.Ok, TestSas.Open(receiver, packet, out _).Status);
        Assert.Equal(EspStatus.Replay, TestSas.Open(receiver, packet, out _).Status);
        Assert.Equal(1, receiver.Counters.ReplayDrops);
    }

    [Fact]
    public void Reordering_within_the_window_is_accepted_and_beyond_it_dropped()
    {
        var (sender, receiver) = TestSas.Pair(TestSas.Cbc128Sha256, window: 64);
        var packets = Enumerable.Range(0, 200).Select(_ => TestSas.Seal(sender, Inner, 4)).ToArray();
        Assert.Equal(EspStatus.Ok, TestSas.Open(receiver, packets[100], out _).Status); // seq 101
        Assert.Equal(EspStatus.Ok, TestSas.Open(receiver, packets[37], out _).Status);  // seq 38 = 101 - 64 + 1: the edge
        Assert.Equal(EspStatus.Replay, TestSas.Open(receiver, packets[36], out _).Status); // seq 37: just outside
        Assert.Equal(EspStatus.Ok, TestSas.Open(receiver, packets[199], out _).Status); // jump ahead
        Assert.Equal(EspStatus.Replay, TestSas.Open(receiver, packets[100], out _).Status);
    }

    [Fact]
    public void The_replay_check_runs_before_the_icv()
    {
        var (sender, receiver) = TestSas.Pair(TestSas.Gcm128);
        var packet = TestSas.Seal(sender, Inner, 4);
        Assert.Equal(EspStatus.Ok, TestSas.Open(receiver, packet, out _).Status);
        packet[^1] ^= 1; // a replay with a broken ICV is a replay, the ICV is never computed
        Assert.Equal(EspStatus.Replay, TestSas.Open(receiver, packet, out _).Status);
        Assert.Equal(0, receiver.Counters.IntegrityDrops);
    }

    [Fact]
    public void A_forged_high_sequence_number_does_not_move_the_window()
    {
        var (sender, receiver) = TestSas.Pair(TestSas.Gcm128);
        var good = TestSas.Seal(sender, Inner, 4);
        var forged = (byte[])good.Clone();
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(forged.AsSpan(4), 1_000_000);
        Assert.Equal(EspStatus.IntegrityFailure, TestSas.Open(receiver, forged, out _).Status);
        Assert.Equal(0UL, receiver.HighestSequenceNumber);
        Assert.Equal(EspStatus.Ok, TestSas.Open(receiver, good, out _).Status);
    }

    [Theory]
    [InlineData("gcm")]
    [InlineData("cbc")]
    public void Esn_sequence_numbers_cross_2_32_and_replays_across_the_wrap_are_caught(string kind)
    {
        var suite = (kind == "gcm" ? TestSas.Gcm256 : TestSas.Cbc128Sha256).WithEsn(true);
        var (sender, receiver) = TestSas.Pair(suite);
        sender.SetLastSequenceNumber(0xFFFF_FFF0UL);
        receiver.ResetWindow(0xFFFF_FFF0UL);
        var packets = new List<(ulong Seq, byte[] Packet)>();
        for (var i = 0; i < 32; i++)
        {
            var packet = new byte[sender.GetEncryptedLength(Inner.Length)];
            var result = sender.Encrypt(Inner, packet, TestSas.T0);
            packets.Add((result.SequenceNumber, packet));
        }

        Assert.Equal(0xFFFF_FFF1UL, packets[0].Seq);
        Assert.Equal(0x1_0000_0010UL, packets[^1].Seq);
        // Only the low 32 bits travel.
        Assert.Equal(0x10u, System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(packets[^1].Packet.AsSpan(4)));

        // Deliver past the wrap first, then the late ones from before it.
        foreach (var (seq, packet) in packets.Skip(20).Concat(packets.Take(20)))
        {
            var result = TestSas.Open(receiver, packet, out var payload);
            Assert.True(result.Status == EspStatus.Ok, $"{seq:x}: {result.Status}");
            Assert.Equal(seq, result.SequenceNumber);
            Assert.Equal(Inner, payload);
        }

        Assert.Equal(0x1_0000_0010UL, receiver.HighestSequenceNumber);
        foreach (var (_, packet) in packets)
        {
            Assert.Equal(EspStatus.Replay, TestSas.Open(receiver, packet, out _).Status);
        }
    }

    [Fact]
    public void Without_esn_the_high_bits_are_not_inferred()
    {
        var (sender, receiver) = TestSas.Pair(TestSas.Gcm128);
        sender.SetLastSequenceNumber(0xFFFF_FFFEUL);
        var last = TestSas.Seal(sender, Inner, 4);
        Assert.Equal(EspStatus.Ok, TestSas.Open(receiver, last, out _).Status);
        Assert.Equal(uint.MaxValue, receiver.HighestSequenceNumber);
    }
}
