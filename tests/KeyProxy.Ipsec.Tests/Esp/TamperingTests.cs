using KeyProxy.Ipsec.Esp;
using KeyProxy.Ipsec.Policy;
using KeyProxy.Primitives;

namespace KeyProxy.Ipsec.Tests.Esp;

public sealed class TamperingTests
{
    public static TheoryData<string, bool> Suites()
    {
        var data = new TheoryData<string, bool>();
        foreach (var suite in TestSas.AllSuites())
        {
            data.Add(suite.ToString(), false);
            data.Add(suite.ToString(), true);
        }

        return data;
    }

    private static EspSuite Suite(string name, bool esn) => TestSas.AllSuites().Single(s => s.ToString() == name).WithEsn(esn);

    [Theory]
    [MemberData(nameof(Suites))]
    public void Changing_any_byte_fails_and_is_counted(string suiteName, bool esn)
    {
        var (sender, receiver) = TestSas.Pair(Suite(suiteName, esn));
        var packet = TestSas.Seal(sender, TestPackets.Ipv4("10.0.0.1", "10.0.0.2", totalLength: 77), EspPacket.NextHeaderIpv4);
        for (var i = 0; i < packet.Length; i++)
        {
            var tampered = (byte[])packet.Clone();
            tampered[i] ^= (byte)(1 << (i % 8));
            var status = TestSas.Open(receiver, tampered, out _).Status;
            Assert.Equal(i < 4 ? EspStatus.NoSa : EspStatus.IntegrityFailure, status);
        }

        Assert.Equal(4, receiver.Counters.NoSaDrops);
        Assert.Equal(packet.Length - 4, receiver.Counters.IntegrityDrops);
        Assert.Equal(0, receiver.Counters.Packets);
        // Failures did not move the window: the genuine packet still gets through, once.
        Assert.Equal(EspStatus.Ok, TestSas.Open(receiver, packet, out _).Status);
        Assert.Equal(EspStatus.Replay, TestSas.Open(receiver, packet, out _).Status);
    }

    [Fact]
    public void An_unknown_spi_is_no_sa_in_the_sad()
    {
        var (sender, receiver) = TestSas.Pair(TestSas.Gcm128, spi: 0x1000);
        var sad = new SecurityAssociationDatabase();
        sad.Add(receiver);
        var (other, _) = TestSas.Pair(TestSas.Gcm128, spi: 0x2000);
        var packet = TestSas.Seal(other, TestPackets.Ipv4("10.0.0.1", "10.0.0.2"), 4);
        Assert.Equal(EspStatus.NoSa, sad.Decrypt(packet, new byte[2000], TestSas.T0).Status);
        Assert.Equal(1, sad.NoSaDrops);
        Assert.Equal(EspStatus.Ok, sad.Decrypt(TestSas.Seal(sender, TestPackets.Ipv4("10.0.0.1", "10.0.0.2"), 4), new byte[2000], TestSas.T0).Status);
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Every_truncation_is_refused_without_an_exception(string suiteName, bool esn)
    {
        var (sender, receiver) = TestSas.Pair(Suite(suiteName, esn));
        var packet = TestSas.Seal(sender, TestPackets.Ipv4("10.0.0.1", "10.0.0.2", totalLength: 100), 4);
        for (var length = 0; length < packet.Length; length++)
        {
            var status = receiver.Decrypt(packet.AsSpan(0, length), new byte[2000], TestSas.T0).Status;
            Assert.True(status is EspStatus.Malformed or EspStatus.IntegrityFailure, $"{length}: {status}");
        }

        Assert.Equal(packet.Length, receiver.Counters.MalformedDrops + receiver.Counters.IntegrityDrops);
        Assert.Equal(EspStatus.Ok, TestSas.Open(receiver, packet, out _).Status);
    }

    [Fact]
    public void Random_garbage_never_throws()
    {
        var (_, receiver) = TestSas.Pair(TestSas.Cbc128Sha256);
        var random = new Random(7);
        for (var i = 0; i < 2000; i++)
        {
            var garbage = new byte[random.Next(0, 200)];
            random.NextBytes(garbage);
            if (garbage.Length >= 4 && i % 2 == 0)
            {
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(garbage, receiver.Spi);
            }

            Assert.NotEqual(EspStatus.Ok, receiver.Decrypt(garbage, new byte[256], TestSas.T0).Status);
        }
    }

    public static TheoryData<string, string> BadTrailers => new()
    {
        { "non-monotonic padding", "01 03" },
        { "zero padding", "00 00" },
        { "pad length past the payload", "" },
    };

    [Theory]
    [MemberData(nameof(BadTrailers))]
    public void Authentic_packets_with_bad_padding_are_dropped_as_malformed(string name, string padding)
    {
        foreach (var suite in new[] { TestSas.Gcm128, TestSas.Cbc128Sha256 })
        {
            var parameters = TestSas.Parameters(suite, mode: ChildSaMode.Transport);
            using var receiver = new InboundEspSa(parameters, TestSas.T0);
            using var transform = EspTransform.Create(suite, parameters.EncryptionKey.Span, parameters.IntegrityKey.Span, SecureRandomSource.Instance);
            var pad = Hex.Bytes(padding);
            var plaintextLength = suite.IsAead ? 8 : 16;
            var packet = new byte[8 + transform.IvLength + plaintextLength + transform.IcvLength];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(packet, parameters.Spi);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(4), 1);
            var body = packet.AsSpan(8 + transform.IvLength, plaintextLength);
            body.Fill(0xAB);
            pad.CopyTo(body[(plaintextLength - 2 - pad.Length)..]);
            body[^2] = pad.Length == 0 ? (byte)200 : (byte)pad.Length;
            body[^1] = 17;
            transform.Seal(packet, 1, esn: false);

            var result = TestSas.Open(receiver, packet, out _);
            Assert.True(EspStatus.BadPadding == result.Status, $"{name} {suite}: {result.Status}");
            Assert.Equal(1, receiver.Counters.MalformedDrops);
            // The number was authentic, so it is used up.
            Assert.Equal(EspStatus.Replay, TestSas.Open(receiver, packet, out _).Status);
        }
    }

    [Fact]
    public void Tunnel_mode_drops_a_next_header_that_does_not_match_the_inner_packet()
    {
        var parameters = TestSas.Parameters(TestSas.Gcm128, mode: ChildSaMode.Tunnel);
        using var sender = new OutboundEspSa(parameters, TestSas.T0);
        using var receiver = new InboundEspSa(parameters, TestSas.T0);
        var packet = TestSas.Seal(sender, TestPackets.Ipv4("10.0.0.1", "10.0.0.2"), EspPacket.NextHeaderIpv6);
        Assert.Equal(EspStatus.Malformed, TestSas.Open(receiver, packet, out _).Status);
        Assert.Equal(1, receiver.Counters.MalformedDrops);
    }
}
