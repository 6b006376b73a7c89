using System.Security.Cryptography;
using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Messages;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Tests.Auth;

/// <summary>Test-only PRF over the framework's HMAC, independent of the production Prf implementations.</summary>
internal sealed class HmacTestPrf : Prf
{
    public static readonly HmacTestPrf Sha256 = new(PrfAlgorithm.HmacSha2_256, 32);
    public static readonly HmacTestPrf Sha384 = new(PrfAlgorithm.HmacSha2_384, 48);

    private HmacTestPrf(PrfAlgorithm algorithm, int outputSize)
    {
        Algorithm = algorithm;
        OutputSize = outputSize;
    }

    public override PrfAlgorithm Algorithm { get; }

    public override int OutputSize { get; }

    public override void Compute(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, Span<byte> destination)
    {
        if (Algorithm == PrfAlgorithm.HmacSha2_256)
        {
            HMACSHA256.HashData(key, data, destination);
        }
        else
        {
            HMACSHA384.HashData(key, data, destination);
        }
    }
}
