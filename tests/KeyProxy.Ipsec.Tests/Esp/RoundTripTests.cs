using CsCheck;
using KeyProxy.Ipsec.Esp;
using KeyProxy.Primitives;

namespace KeyProxy.Ipsec.Tests.Esp;

public sealed class RoundTripTests
{
    public static TheoryData<string, ChildSaMode, bool> Combinations()
    {
        var data = new TheoryData<string, ChildSaMode, bool>();
        foreach (var suite in TestSas.AllSuites())
        {
            foreach (var mode in new[] { ChildSaMode.Tunnel, ChildSaMode.Transport })
            {
                data.Add(suite.ToString(), mode, false);
                data.Add(suite.ToString(), mode, true);
            }
        }

        return data;
    }

    private static EspSuite Suite(string name, bool esn) => TestSas.AllSuites().Single(s => s.ToString() == name).WithEsn(esn);

    [Theory]
    [MemberData(nameof(Combinations))]
    public void Every_payload_size_from_0_to_1500_round_trips(string suiteName, ChildSaMode mode, bool esn)
    {
        var suite = Suite(suiteName, esn);
        Gen.Select(Gen.Int[0, 1500], Gen.Bool, Gen.Int).Sample((size, v6, seed) =>
        {
            var (sender, receiver) = TestSas.Pair(suite, mode);
            using (sender)
            using (receiver)
            {
                byte[] payload;
                byte nextHeader;
                if (mode == ChildSaMode.Tunnel)
                {
                    payload = v6 ? TestPackets.Ipv6("2001:db8::1", "2001:db8::2", totalLength: size, seed: seed) : TestPackets.Ipv4("10.0.0.1", "10.0.0.2", totalLength: size, seed: seed);
                    nextHeader = v6 ? EspPacket.NextHeaderIpv6 : EspPacket.NextHeaderIpv4;
                }
                else
                {
                    payload = new byte[size];
                    new Random(seed).NextBytes(payload);
                    nextHeader = v6 ? (byte)6 : (byte)17;
                }

                var packet = new byte[sender.GetEncryptedLength(payload.Length)];
                var sealedResult = mode == ChildSaMode.Tunnel ? sender.Encrypt(payload, packet, TestSas.T0) : sender.Encrypt(payload, nextHeader, packet, TestSas.T0);
                Assert.Equal(EspStatus.Ok, sealedResult.Status);
                Assert.Equal(1UL, sealedResult.SequenceNumber);
                Assert.Equal(0, (packet.Length - 8 - sender.IvLength - sender.IcvLength) % sender.BlockAlignment);

                var opened = TestSas.Open(receiver, packet, out var output);
                Assert.Equal(EspStatus.Ok, opened.Status);
                Assert.Equal(nextHeader, opened.NextHeader);
                Assert.Equal(payload, output);
                Assert.Equal(1, receiver.Counters.Packets);
                Assert.Equal(payload.Length, receiver.Counters.Bytes);
                Assert.Equal(payload.Length, sender.Counters.Bytes);
            }
        }, iter: 60);
    }

    [Theory]
    [MemberData(nameof(Combinations))]
    public void A_stream_of_packets_keeps_decrypting_in_order(string suiteName, ChildSaMode mode, bool esn)
    {
        var (sender, receiver) = TestSas.Pair(Suite(suiteName, esn), mode);
        for (var i = 0; i < 50; i++)
        {
            var payload = TestPackets.Ipv4("10.0.0.1", "10.0.0.2", totalLength: 28 + i * 7, seed: i);
            var packet = TestSas.Seal(sender, payload, EspPacket.NextHeaderIpv4);
            var result = TestSas.Open(receiver, packet, out var output);
            Assert.Equal(EspStatus.Ok, result.Status);
            Assert.Equal((ulong)i + 1, result.SequenceNumber);
            Assert.Equal(payload, output);
        }
    }

    [Fact]
    public void Padding_is_monotonic_and_minimal()
    {
        // Decrypt with a transport SA and inspect the raw plaintext through a second, in-the-clear look:
        // AES-CBC block 16, payload 5 -> 5 + 9 padding + 2 = 16.
        var (sender, _) = TestSas.Pair(TestSas.Cbc128Sha256, ChildSaMode.Transport);
        Assert.Equal(8 + 16 + 16 + 16, sender.GetEncryptedLength(5));
        Assert.Equal(8 + 16 + 32 + 16, sender.GetEncryptedLength(15));
        var (gcm, _) = TestSas.Pair(TestSas.Gcm128, ChildSaMode.Transport);
        Assert.Equal(8 + 8 + 4 + 16, gcm.GetEncryptedLength(2));
        Assert.Equal(8 + 8 + 8 + 16, gcm.GetEncryptedLength(3));
    }

    [Fact]
    public void Tunnel_mode_refuses_a_payload_that_is_not_ip()
    {
        var (sender, _) = TestSas.Pair(TestSas.Gcm128);
        var result = sender.Encrypt([0x12, 0x34], new byte[100], TestSas.T0);
        Assert.Equal(EspStatus.InvalidPayload, result.Status);
        Assert.Equal(0UL, sender.LastSequenceNumber);
    }

    [Fact]
    public void A_short_destination_consumes_no_sequence_number()
    {
        var (sender, _) = TestSas.Pair(TestSas.Gcm128);
        var packet = TestPackets.Ipv4("10.0.0.1", "10.0.0.2");
        var result = sender.Encrypt(packet, new byte[10], TestSas.T0);
        Assert.Equal(EspStatus.DestinationTooSmall, result.Status);
        Assert.Equal(sender.GetEncryptedLength(packet.Length), result.BytesWritten);
        Assert.Equal(0UL, sender.LastSequenceNumber);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_outbound_counter_never_cycles(bool esn)
    {
        var (sender, _) = TestSas.Pair(TestSas.Gcm128.WithEsn(esn));
        sender.SetLastSequenceNumber(sender.MaxSequenceNumber - 1);
        var payload = TestPackets.Ipv4("10.0.0.1", "10.0.0.2");
        var buffer = new byte[200];
        var last = sender.Encrypt(payload, buffer, TestSas.T0);
        Assert.Equal(EspStatus.Ok, last.Status);
        Assert.Equal(esn ? ulong.MaxValue : uint.MaxValue, last.SequenceNumber);
        Assert.Equal(EspStatus.SequenceNumberExhausted, sender.Encrypt(payload, buffer, TestSas.T0).Status);
        Assert.Equal(EspStatus.SequenceNumberExhausted, sender.Encrypt(payload, buffer, TestSas.T0).Status);
    }

    [Fact]
    public void Dummy_packets_are_authenticated_and_reported_for_discard()
    {
        var (sender, receiver) = TestSas.Pair(TestSas.Gcm128);
        var packet = TestSas.Seal(sender, [1, 2, 3], EspPacket.NextHeaderNone);
        var result = TestSas.Open(receiver, packet, out var payload);
        Assert.Equal(EspStatus.DummyPacket, result.Status);
        Assert.Empty(payload);
    }

    [Fact]
    public void Keys_never_appear_in_text()
    {
        var parameters = TestSas.Parameters(TestSas.Gcm128);
        var key = Convert.ToHexString(parameters.EncryptionKey.Span);
        using var sa = new OutboundEspSa(parameters, TestSas.T0);
        Assert.DoesNotContain(key, parameters.ToString(), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(key, sa.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Key_lengths_that_do_not_fit_the_suite_are_refused()
    {
        var parameters = TestSas.Parameters(TestSas.Gcm128);
        Assert.Throws<ArgumentException>(() => new OutboundEspSa(new EspSaParameters { Spi = 1, Suite = TestSas.Gcm128, EncryptionKey = new byte[16] }, TestSas.T0));
        Assert.Throws<ArgumentException>(() => new OutboundEspSa(new EspSaParameters { Spi = 1, Suite = TestSas.Cbc128Sha256, EncryptionKey = new byte[16] }, TestSas.T0));
        Assert.NotNull(parameters);
    }
}
