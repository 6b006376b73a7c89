using KeyProxy.Ike.Messages;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Crypto;

/// <summary>A pseudo-random function of IKEv2 (RFC 7296 2.13): HMAC-SHA2 per RFC 4868.</summary>
public abstract class Prf
{
    public abstract PrfAlgorithm Algorithm { get; }

    /// <summary>Output length in bytes; also the preferred key length of SK_d, SK_pi and SK_pr (RFC 7296 2.14).</summary>
    public abstract int OutputSize { get; }

    public abstract void Compute(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, Span<byte> destination);

    public byte[] Compute(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data)
    {
        var output = new byte[OutputSize];
        Compute(key, data, output);
        return output;
    }
}
