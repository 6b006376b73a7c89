using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Protocol;

/// <summary>
/// Stateless responder cookies (RFC 7296 2.6): Cookie = VersionIDofSecret | Hash(Ni | IPi | SPIi | Secret).
/// The host asks for a cookie when half-open SAs pile up; only a returned valid cookie costs state and DH.
/// The secret rotates; cookies made with the previous secret are still accepted.
/// </summary>
public sealed class CookieGenerator
{
    private readonly object _gate = new();
    private readonly IRandomSource _random;
    private byte[] _secret = new byte[32];
    private byte[] _previousSecret = new byte[32];
    private uint _version;

    public CookieGenerator(IRandomSource random)
    {
        _random = random;
        _random.Fill(_secret);
        _random.Fill(_previousSecret);
    }

    /// <summary>4-byte secret version plus a 32-byte SHA-256: 36 bytes, within the 64 RFC 7296 allows.</summary>
    public const int CookieLength = 36;

    public void Rotate()
    {
        lock (_gate)
        {
            _previousSecret = _secret;
            _secret = new byte[32];
            _random.Fill(_secret);
            _version++;
        }
    }

    public byte[] Create(ReadOnlySpan<byte> nonceI, IPAddress initiator, ulong initiatorSpi)
    {
        byte[] secret;
        uint version;
        lock (_gate) { secret = _secret; version = _version; }
        var cookie = new byte[CookieLength];
        BinaryPrimitives.WriteUInt32BigEndian(cookie, version);
        Digest(nonceI, initiator, initiatorSpi, secret, cookie.AsSpan(4));
        return cookie;
    }

    public bool Verify(ReadOnlySpan<byte> cookie, ReadOnlySpan<byte> nonceI, IPAddress initiator, ulong initiatorSpi)
    {
        if (cookie.Length != CookieLength) return false;
        byte[] secret;
        lock (_gate)
        {
            var version = BinaryPrimitives.ReadUInt32BigEndian(cookie);
            if (version == _version) secret = _secret;
            else if (version == _version - 1) secret = _previousSecret;
            else return false;
        }
        Span<byte> expected = stackalloc byte[32];
        Digest(nonceI, initiator, initiatorSpi, secret, expected);
        return CryptographicOperations.FixedTimeEquals(expected, cookie[4..]);
    }

    private static void Digest(ReadOnlySpan<byte> nonceI, IPAddress initiator, ulong spi, byte[] secret, Span<byte> destination)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(nonceI);
        Span<byte> address = stackalloc byte[16];
        initiator.TryWriteBytes(address, out var length);
        hash.AppendData(address[..length]);
        Span<byte> spiBytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(spiBytes, spi);
        hash.AppendData(spiBytes);
        hash.AppendData(secret);
        hash.GetHashAndReset(destination);
    }
}
