using System.Buffers.Binary;
using System.Security.Cryptography;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Crypto;

/// <summary>IKEv2 key derivation: prf+ (RFC 7296 2.13), SKEYSEED and SK_* (2.14), KEYMAT (2.17), rekeyed SKEYSEED (2.18).</summary>
public static class IkeKeyDerivation
{
    /// <summary>
    /// prf+ (K, S) = T1 | T2 | ... with T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n) (RFC 7296 2.13).
    /// Fills <paramref name="output"/>; at most 255 blocks of the PRF output.
    /// </summary>
    public static void PrfPlus(Prf prf, ReadOnlySpan<byte> key, ReadOnlySpan<byte> seed, Span<byte> output)
    {
        var blockSize = prf.OutputSize;
        if (output.Length > 255 * blockSize)
        {
            throw new ArgumentException($"prf+ yields at most {255 * blockSize} bytes with {prf.Algorithm}", nameof(output));
        }

        var input = new byte[blockSize + seed.Length + 1];
        var block = new byte[blockSize];
        try
        {
            var previousLength = 0;
            for (var n = 1; output.Length > 0; n++)
            {
                // input = T(n-1) | S | n, where T0 is empty
                block.AsSpan(0, previousLength).CopyTo(input);
                seed.CopyTo(input.AsSpan(previousLength));
                input[previousLength + seed.Length] = (byte)n;
                prf.Compute(key, input.AsSpan(0, previousLength + seed.Length + 1), block);
                previousLength = blockSize;

                var take = Math.Min(blockSize, output.Length);
                block.AsSpan(0, take).CopyTo(output);
                output = output[take..];
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(input);
            CryptographicOperations.ZeroMemory(block);
        }
    }

    public static byte[] PrfPlus(Prf prf, ReadOnlySpan<byte> key, ReadOnlySpan<byte> seed, int length)
    {
        var output = new byte[length];
        PrfPlus(prf, key, seed, output);
        return output;
    }

    /// <summary>
    /// SKEYSEED = prf(Ni | Nr, g^ir) (RFC 7296 2.14). For the HMAC PRFs the key is the whole
    /// Ni | Nr (only fixed-key-size PRFs such as AES-XCBC take half of each nonce).
    /// </summary>
    public static byte[] ComputeSkeyseed(Prf prf, ReadOnlySpan<byte> nonceI, ReadOnlySpan<byte> nonceR, ReadOnlySpan<byte> sharedSecret)
    {
        var key = Concat(nonceI, nonceR);
        try
        {
            return prf.Compute(key, sharedSecret);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>
    /// SKEYSEED of a rekeyed IKE SA = prf(SK_d (old), g^ir (new) | Ni | Nr) (RFC 7296 2.18); nonces of the CREATE_CHILD_SA
    /// exchange. With additional key exchanges (RFC 9370 2.2.4) their secrets follow: ... | Ni | Nr | SK(1) | ... | SK(n).
    /// </summary>
    public static byte[] ComputeRekeySkeyseed(Prf oldPrf, ReadOnlySpan<byte> oldSkD, ReadOnlySpan<byte> sharedSecret, ReadOnlySpan<byte> nonceI, ReadOnlySpan<byte> nonceR,
        ReadOnlySpan<byte> additionalSecrets = default)
    {
        var data = Concat(sharedSecret, nonceI, nonceR, additionalSecrets);
        try
        {
            return oldPrf.Compute(oldSkD, data);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(data);
        }
    }

    /// <summary>{SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr) (RFC 7296 2.14).</summary>
    public static IkeSaKeys DeriveIkeSaKeys(
        IkeSuite suite, ReadOnlySpan<byte> skeyseed, ReadOnlySpan<byte> nonceI, ReadOnlySpan<byte> nonceR, ulong spiI, ulong spiR)
    {
        Span<byte> spis = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(spis, spiI);
        BinaryPrimitives.WriteUInt64BigEndian(spis[8..], spiR);
        var seed = Concat(nonceI, nonceR, spis);
        var keyMaterial = new byte[suite.KeyMaterialLength];
        try
        {
            PrfPlus(suite.CreatePrf(), skeyseed, seed, keyMaterial);
            return new IkeSaKeys(suite, keyMaterial);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(keyMaterial);
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    /// <summary>
    /// Initial exchange in one call: SKEYSEED from g^ir and the nonces, then the SK_* keys (RFC 7296 2.14).
    /// </summary>
    public static IkeSaKeys DeriveIkeSaKeys(
        IkeSuite suite, ReadOnlySpan<byte> sharedSecret, ReadOnlySpan<byte> nonceI, ReadOnlySpan<byte> nonceR, ulong spiI, ulong spiR, out byte[] skeyseed)
    {
        skeyseed = ComputeSkeyseed(suite.CreatePrf(), nonceI, nonceR, sharedSecret);
        return DeriveIkeSaKeys(suite, skeyseed, nonceI, nonceR, spiI, spiR);
    }

    /// <summary>
    /// New IKE SA keys on rekey (RFC 7296 2.18): SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr) with
    /// the old SA's PRF, then the SK_* of the new suite from the new SPIs.
    /// </summary>
    public static IkeSaKeys DeriveRekeyedIkeSaKeys(
        IkeSaKeys oldKeys, IkeSuite newSuite, ReadOnlySpan<byte> sharedSecret, ReadOnlySpan<byte> nonceI, ReadOnlySpan<byte> nonceR, ulong newSpiI, ulong newSpiR,
        ReadOnlySpan<byte> additionalSecrets = default)
    {
        var skeyseed = ComputeRekeySkeyseed(oldKeys.Suite.CreatePrf(), oldKeys.SkD, sharedSecret, nonceI, nonceR, additionalSecrets);
        try
        {
            return DeriveIkeSaKeys(newSuite, skeyseed, nonceI, nonceR, newSpiI, newSpiR);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(skeyseed);
        }
    }

    /// <summary>
    /// KEYMAT = prf+(SK_d, Ni | Nr), or prf+(SK_d, g^ir (new) | Ni | Nr) with a CREATE_CHILD_SA KE
    /// (RFC 7296 2.17); pass an empty <paramref name="sharedSecret"/> when there is none.
    /// </summary>
    public static ChildSaKeys DeriveChildSaKeys(
        Prf prf, ReadOnlySpan<byte> skD, EspSuite suite, ReadOnlySpan<byte> sharedSecret, ReadOnlySpan<byte> nonceI, ReadOnlySpan<byte> nonceR)
    {
        var seed = Concat(sharedSecret, nonceI, nonceR);
        var keyMaterial = new byte[suite.KeyMaterialLength];
        try
        {
            PrfPlus(prf, skD, seed, keyMaterial);
            return new ChildSaKeys(suite, keyMaterial);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(keyMaterial);
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    /// <summary>CHILD_SA keys under an IKE SA: uses its PRF and SK_d.</summary>
    public static ChildSaKeys DeriveChildSaKeys(
        IkeSaKeys ikeSa, EspSuite suite, ReadOnlySpan<byte> sharedSecret, ReadOnlySpan<byte> nonceI, ReadOnlySpan<byte> nonceR) =>
        DeriveChildSaKeys(ikeSa.Suite.CreatePrf(), ikeSa.SkD, suite, sharedSecret, nonceI, nonceR);

    private static byte[] Concat(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, ReadOnlySpan<byte> c = default, ReadOnlySpan<byte> d = default)
    {
        var result = new byte[a.Length + b.Length + c.Length + d.Length];
        a.CopyTo(result);
        b.CopyTo(result.AsSpan(a.Length));
        c.CopyTo(result.AsSpan(a.Length + b.Length));
        d.CopyTo(result.AsSpan(a.Length + b.Length + c.Length));
        return result;
    }
}
