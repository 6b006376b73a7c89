using System.Buffers.Binary;
using System.Net;
using KeyProxy.Ipsec.Esp;
using KeyProxy.Primitives;

namespace KeyProxy.Ipsec.Tests;

/// <summary>Sender and receiver SAs sharing one SPI and keys, as two peers would hold them.</summary>
internal static class TestSas
{
    public static readonly DateTimeOffset T0 = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static readonly EspSuite Gcm128 = new(EncryptionAlgorithm.AesGcm16, 128, IntegrityAlgorithm.None, EsnMode.NoEsn);
    public static readonly EspSuite Gcm256 = new(EncryptionAlgorithm.AesGcm16, 256, IntegrityAlgorithm.None, EsnMode.NoEsn);
    public static readonly EspSuite Cbc128Sha256 = new(EncryptionAlgorithm.AesCbc, 128, IntegrityAlgorithm.HmacSha2_256_128, EsnMode.NoEsn);

    /// <summary>Every suite: AES-GCM-16 128/256, AES-CBC 128/256 with each HMAC-SHA2.</summary>
    public static IEnumerable<EspSuite> AllSuites()
    {
        yield return Gcm128;
        yield return Gcm256;
        foreach (var bits in new[] { 128, 256 })
        {
            foreach (var integrity in new[] { IntegrityAlgorithm.HmacSha2_256_128, IntegrityAlgorithm.HmacSha2_384_192, IntegrityAlgorithm.HmacSha2_512_256 })
            {
                yield return new EspSuite(EncryptionAlgorithm.AesCbc, bits, integrity, EsnMode.NoEsn);
            }
        }
    }

    public static EspSuite WithEsn(this EspSuite suite, bool esn) => suite with { Esn = esn ? EsnMode.Esn : EsnMode.NoEsn };

    public static EspSaParameters Parameters(EspSuite suite, uint spi = 0x1234_5678, ChildSaMode mode = ChildSaMode.Tunnel, SaLifetime? lifetime = null, int window = ReplayWindow.DefaultSize, int keySeed = 1)
    {
        var encryption = new byte[suite.EncryptionKeyMaterialLength];
        var integrity = new byte[suite.IntegrityKeyLength];
        new Random(keySeed).NextBytes(encryption);
        new Random(keySeed + 1000).NextBytes(integrity);
        return new EspSaParameters
        {
            Spi = spi,
            Suite = suite,
            EncryptionKey = encryption,
            IntegrityKey = integrity,
            Mode = mode,
            Lifetime = lifetime ?? SaLifetime.Unlimited,
            ReplayWindowSize = window,
        };
    }

    public static (OutboundEspSa Sender, InboundEspSa Receiver) Pair(EspSuite suite, ChildSaMode mode = ChildSaMode.Tunnel, SaLifetime? lifetime = null, int window = ReplayWindow.DefaultSize, uint spi = 0x1234_5678)
    {
        var parameters = Parameters(suite, spi, mode, lifetime, window);
        return (new OutboundEspSa(parameters, T0), new InboundEspSa(parameters, T0));
    }

    /// <summary>Encrypts <paramref name="payload"/> and returns the ESP packet.</summary>
    public static byte[] Seal(OutboundEspSa sa, ReadOnlySpan<byte> payload, byte nextHeader = 17, DateTimeOffset? now = null)
    {
        var buffer = new byte[sa.GetEncryptedLength(payload.Length)];
        var result = sa.Encrypt(payload, nextHeader, buffer, now ?? T0);
        Assert.Equal(EspStatus.Ok, result.Status);
        Assert.Equal(buffer.Length, result.BytesWritten);
        return buffer;
    }

    public static EspDecryptResult Open(InboundEspSa sa, ReadOnlySpan<byte> packet, out byte[] payload, DateTimeOffset? now = null)
    {
        var buffer = new byte[Math.Max(1, sa.GetDecryptBufferLength(packet.Length))];
        var result = sa.Decrypt(packet, buffer, now ?? T0);
        payload = buffer[..result.BytesWritten];
        return result;
    }
}

/// <summary>Minimal inner packets for tunnel mode and selector tests.</summary>
internal static class TestPackets
{
    /// <summary>An IPv4 packet of <paramref name="totalLength"/> bytes (at least 28) carrying UDP or TCP.</summary>
    public static byte[] Ipv4(string source, string destination, byte protocol = 17, ushort sourcePort = 1000, ushort destinationPort = 2000, int totalLength = 60, int seed = 0)
    {
        totalLength = Math.Max(28, totalLength);
        var packet = new byte[totalLength];
        new Random(seed).NextBytes(packet);
        packet[0] = 0x45;
        packet[1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)totalLength);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(6), 0); // no fragment offset
        packet[8] = 64;
        packet[9] = protocol;
        IPAddress.Parse(source).TryWriteBytes(packet.AsSpan(12), out _);
        IPAddress.Parse(destination).TryWriteBytes(packet.AsSpan(16), out _);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(20), sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(22), destinationPort);
        return packet;
    }

    /// <summary>An IPv6 packet of <paramref name="totalLength"/> bytes (at least 48).</summary>
    public static byte[] Ipv6(string source, string destination, byte protocol = 17, ushort sourcePort = 1000, ushort destinationPort = 2000, int totalLength = 80, int seed = 0)
    {
        totalLength = Math.Max(48, totalLength);
        var packet = new byte[totalLength];
        new Random(seed).NextBytes(packet);
        packet[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), (ushort)(totalLength - 40));
        packet[6] = protocol;
        packet[7] = 64;
        IPAddress.Parse(source).TryWriteBytes(packet.AsSpan(8), out _);
        IPAddress.Parse(destination).TryWriteBytes(packet.AsSpan(24), out _);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(40), sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(42), destinationPort);
        return packet;
    }
}

/// <summary>Replays fixed bytes: pins IVs for known-answer tests.</summary>
internal sealed class FixedRandom(params byte[][] chunks) : IRandomSource
{
    private int _next;

    public void Fill(Span<byte> destination)
    {
        var chunk = chunks[Math.Min(_next++, chunks.Length - 1)];
        chunk.AsSpan(0, destination.Length).CopyTo(destination);
    }
}

internal static class Hex
{
    public static byte[] Bytes(string hex) => Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));
}
