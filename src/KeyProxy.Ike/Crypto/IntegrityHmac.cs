using System.Security.Cryptography;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Crypto;

/// <summary>
/// AUTH_HMAC_SHA2_256_128 / 384_192 / 512_256 (RFC 4868 2.1.1 and 2.3): HMAC-SHA2 with a key of
/// the hash length, output truncated to half of it.
/// </summary>
internal static class IntegrityHmac
{
    public static int KeyLength(IntegrityAlgorithm algorithm) => TransformSizes.IntegrityKeyLength(algorithm);

    public static int IcvLength(IntegrityAlgorithm algorithm) => TransformSizes.IcvLength(algorithm);

    /// <summary>Writes the truncated HMAC of <paramref name="data"/> to <paramref name="icv"/> (IcvLength bytes).</summary>
    public static void Compute(IntegrityAlgorithm algorithm, ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, Span<byte> icv)
    {
        Span<byte> full = stackalloc byte[64];
        var written = algorithm switch
        {
            IntegrityAlgorithm.HmacSha2_256_128 => HMACSHA256.HashData(key, data, full),
            IntegrityAlgorithm.HmacSha2_384_192 => HMACSHA384.HashData(key, data, full),
            IntegrityAlgorithm.HmacSha2_512_256 => HMACSHA512.HashData(key, data, full),
            _ => throw new NotSupportedException($"integrity algorithm {algorithm} is not supported"),
        };
        full[..(written / 2)].CopyTo(icv);
    }
}
