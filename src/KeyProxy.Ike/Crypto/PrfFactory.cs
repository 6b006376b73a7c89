using KeyProxy.Ike.Messages;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Crypto;

/// <summary>Maps IKEv2 transform type 2 ids to <see cref="Prf"/> implementations.</summary>
public static class PrfFactory
{
    public static bool IsSupported(PrfAlgorithm algorithm) =>
        algorithm is PrfAlgorithm.HmacSha2_256 or PrfAlgorithm.HmacSha2_384 or PrfAlgorithm.HmacSha2_512;

    /// <summary>The shared, thread-safe instance for <paramref name="algorithm"/>.</summary>
    public static Prf Create(PrfAlgorithm algorithm) => algorithm switch
    {
        PrfAlgorithm.HmacSha2_256 => HmacSha2Prf.Sha256,
        PrfAlgorithm.HmacSha2_384 => HmacSha2Prf.Sha384,
        PrfAlgorithm.HmacSha2_512 => HmacSha2Prf.Sha512,
        _ => throw new NotSupportedException($"PRF {algorithm} is not supported"),
    };
}
