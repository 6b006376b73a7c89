using System.Security.Cryptography;
using KeyProxy.Ike.Messages;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Crypto;

/// <summary>
/// PRF_HMAC_SHA2_256/384/512 (RFC 4868 2.1.2): HMAC (RFC 2104) with the full hash output, any key
/// length (keys longer than the block are hashed first, inside HMAC). Stateless one-shot calls,
/// so one instance serves every thread.
/// </summary>
public sealed class HmacSha2Prf : Prf
{
    public static readonly HmacSha2Prf Sha256 = new(PrfAlgorithm.HmacSha2_256, 32);
    public static readonly HmacSha2Prf Sha384 = new(PrfAlgorithm.HmacSha2_384, 48);
    public static readonly HmacSha2Prf Sha512 = new(PrfAlgorithm.HmacSha2_512, 64);

    private HmacSha2Prf(PrfAlgorithm algorithm, int outputSize)
    {
        Algorithm = algorithm;
        OutputSize = outputSize;
    }

    public override PrfAlgorithm Algorithm { get; }

    public override int OutputSize { get; }

    public override void Compute(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, Span<byte> destination)
    {
        if (destination.Length < OutputSize)
        {
            throw new ArgumentException($"destination needs {OutputSize} bytes", nameof(destination));
        }

        _ = Algorithm switch
        {
            PrfAlgorithm.HmacSha2_256 => HMACSHA256.HashData(key, data, destination),
            PrfAlgorithm.HmacSha2_384 => HMACSHA384.HashData(key, data, destination),
            _ => HMACSHA512.HashData(key, data, destination),
        };
    }
}
