using KeyProxy.Primitives;

namespace KeyProxy.Ike.Crypto;

/// <summary>The 2048-bit MODP group, IKE group 14 (RFC 3526 section 3): p = 2^2048 - 2^1984 - 1 + 2^64 * ([2^1918 pi] + 124476), g = 2.</summary>
internal static class Modp2048
{
    public const int Length = 256;

    public const int Generator = 2;

    /// <summary>
    /// Private exponent length in bits used by the managed implementation. RFC 3526 section 8 and
    /// NIST SP 800-56A rev3 5.6.1.1.4 (safe-prime groups) allow a short exponent of at least twice the
    /// group's security strength (112 bits for 2048-bit MODP); OpenSSL uses 225 bits for modp_2048.
    /// </summary>
    public const int PrivateExponentBits = 256;

    public const string PrimeHex =
        "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD" +
        "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED" +
        "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F" +
        "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B" +
        "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510" +
        "15728E5A8AACAA68FFFFFFFFFFFFFFFF";

    private static readonly byte[] PrimeMinusOne = CreatePrimeMinusOne();

    public static ReadOnlySpan<byte> Prime => PrimeBytes;

    private static readonly byte[] PrimeBytes = Convert.FromHexString(PrimeHex);

    private static byte[] CreatePrimeMinusOne()
    {
        var bytes = Convert.FromHexString(PrimeHex);
        bytes[^1] -= 1; // p ends in 0xFF: no borrow
        return bytes;
    }

    /// <summary>
    /// Checks a peer public value: exactly 256 bytes (RFC 7296 3.4: big-endian, zero-padded to the
    /// prime length) and 1 &lt; y &lt; p-1 (NIST SP 800-56A 5.6.2.3.1 partial validation; this rules
    /// out 0, 1 and p-1, the values that force a trivial shared secret).
    /// </summary>
    public static void ValidatePeerPublic(ReadOnlySpan<byte> y)
    {
        const DhGroup group = DhGroup.Modp2048;
        DhGroupInfo.CheckPeerLength(group, y);
        // y > 1: some byte before the last is non-zero, or the last byte is > 1.
        if (y[..^1].IndexOfAnyExcept((byte)0) < 0 && y[^1] <= 1)
        {
            throw new InvalidKeyExchangeException(group, "public value is 0 or 1");
        }

        // y < p-1: big-endian comparison (spans of equal length compare lexicographically).
        if (y.SequenceCompareTo(PrimeMinusOne) >= 0)
        {
            throw new InvalidKeyExchangeException(group, "public value is not below p-1");
        }
    }

    /// <summary>Left-pads a big-endian value to the prime length (RFC 7296 3.4, and g^ir likewise).</summary>
    public static byte[] PadToLength(ReadOnlySpan<byte> value)
    {
        if (value.Length > Length)
        {
            throw new ArgumentException("value longer than the prime", nameof(value));
        }

        var result = new byte[Length];
        value.CopyTo(result.AsSpan(Length - value.Length));
        return result;
    }
}
