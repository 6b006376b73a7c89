using System.Buffers.Binary;
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

        // input = T(n-1) | S | n, where T0 is empty; full blocks go straight to the output, a partial last one to `last`.
        using var scratch = new SecretScratch(stackalloc byte[SecretScratch.StackSize], 2 * blockSize + seed.Length + 1);
        var last = scratch.Span[..blockSize];
        var input = scratch.Span[blockSize..];
        seed.CopyTo(input[blockSize..]);
        var previousLength = 0;
        for (var n = 1; output.Length > 0; n++)
        {
            var round = input[(blockSize - previousLength)..];
            round[^1] = (byte)n;
            if (output.Length >= blockSize)
            {
                prf.Compute(key, round, output[..blockSize]);
                output[..blockSize].CopyTo(input);
                output = output[blockSize..];
            }
            else
            {
                prf.Compute(key, round, last);
                last[..output.Length].CopyTo(output);
                output = [];
            }
            previousLength = blockSize;
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
        var skeyseed = new byte[prf.OutputSize];
        ComputeSkeyseed(prf, nonceI, nonceR, sharedSecret, skeyseed);
        return skeyseed;
    }

    /// <summary>As <see cref="ComputeSkeyseed(Prf, ReadOnlySpan{byte}, ReadOnlySpan{byte}, ReadOnlySpan{byte})"/>, into <paramref name="destination"/> (the PRF's output size).</summary>
    public static void ComputeSkeyseed(Prf prf, ReadOnlySpan<byte> nonceI, ReadOnlySpan<byte> nonceR, ReadOnlySpan<byte> sharedSecret, Span<byte> destination)
    {
        using var key = new SecretScratch(stackalloc byte[SecretScratch.StackSize], nonceI.Length + nonceR.Length);
        Concat(key.Span, nonceI, nonceR);
        prf.Compute(key.Span, sharedSecret, destination);
    }

    /// <summary>
    /// SKEYSEED of a rekeyed IKE SA = prf(SK_d (old), g^ir (new) | Ni | Nr) (RFC 7296 2.18); nonces of the CREATE_CHILD_SA
    /// exchange. With additional key exchanges (RFC 9370 2.2.4) their secrets follow: ... | Ni | Nr | SK(1) | ... | SK(n).
    /// </summary>
    public static byte[] ComputeRekeySkeyseed(Prf oldPrf, ReadOnlySpan<byte> oldSkD, ReadOnlySpan<byte> sharedSecret, ReadOnlySpan<byte> nonceI, ReadOnlySpan<byte> nonceR,
        ReadOnlySpan<byte> additionalSecrets = default)
    {
        var skeyseed = new byte[oldPrf.OutputSize];
        ComputeRekeySkeyseed(oldPrf, oldSkD, sharedSecret, nonceI, nonceR, additionalSecrets, skeyseed);
        return skeyseed;
    }

    private static void ComputeRekeySkeyseed(Prf oldPrf, ReadOnlySpan<byte> oldSkD, ReadOnlySpan<byte> sharedSecret, ReadOnlySpan<byte> nonceI, ReadOnlySpan<byte> nonceR,
        ReadOnlySpan<byte> additionalSecrets, Span<byte> destination)
    {
        using var data = new SecretScratch(stackalloc byte[SecretScratch.StackSize], sharedSecret.Length + nonceI.Length + nonceR.Length + additionalSecrets.Length);
        Concat(data.Span, sharedSecret, nonceI, nonceR, additionalSecrets);
        oldPrf.Compute(oldSkD, data.Span, destination);
    }

    /// <summary>{SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr) (RFC 7296 2.14).</summary>
    public static IkeSaKeys DeriveIkeSaKeys(
        IkeSuite suite, ReadOnlySpan<byte> skeyseed, ReadOnlySpan<byte> nonceI, ReadOnlySpan<byte> nonceR, ulong spiI, ulong spiR)
    {
        Span<byte> spis = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(spis, spiI);
        BinaryPrimitives.WriteUInt64BigEndian(spis[8..], spiR);
        using var seed = new SecretScratch(stackalloc byte[SecretScratch.StackSize], nonceI.Length + nonceR.Length + spis.Length);
        Concat(seed.Span, nonceI, nonceR, spis);
        using var keyMaterial = new SecretScratch(stackalloc byte[SecretScratch.StackSize], suite.KeyMaterialLength);
        PrfPlus(suite.CreatePrf(), skeyseed, seed.Span, keyMaterial.Span);
        return new IkeSaKeys(suite, keyMaterial.Span);
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
    /// The initial exchange's SK_* keys from g^ir and the nonces (RFC 7296 2.14), SKEYSEED kept only on the stack and zeroed.
    /// </summary>
    public static IkeSaKeys DeriveInitialIkeSaKeys(
        IkeSuite suite, ReadOnlySpan<byte> sharedSecret, ReadOnlySpan<byte> nonceI, ReadOnlySpan<byte> nonceR, ulong spiI, ulong spiR)
    {
        var prf = suite.CreatePrf();
        using var skeyseed = new SecretScratch(stackalloc byte[SecretScratch.StackSize], prf.OutputSize);
        ComputeSkeyseed(prf, nonceI, nonceR, sharedSecret, skeyseed.Span);
        return DeriveIkeSaKeys(suite, skeyseed.Span, nonceI, nonceR, spiI, spiR);
    }

    /// <summary>
    /// New IKE SA keys on rekey (RFC 7296 2.18): SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr) with
    /// the old SA's PRF, then the SK_* of the new suite from the new SPIs.
    /// </summary>
    public static IkeSaKeys DeriveRekeyedIkeSaKeys(
        IkeSaKeys oldKeys, IkeSuite newSuite, ReadOnlySpan<byte> sharedSecret, ReadOnlySpan<byte> nonceI, ReadOnlySpan<byte> nonceR, ulong newSpiI, ulong newSpiR,
        ReadOnlySpan<byte> additionalSecrets = default)
    {
        var oldPrf = oldKeys.Suite.CreatePrf();
        using var skeyseed = new SecretScratch(stackalloc byte[SecretScratch.StackSize], oldPrf.OutputSize);
        ComputeRekeySkeyseed(oldPrf, oldKeys.SkD, sharedSecret, nonceI, nonceR, additionalSecrets, skeyseed.Span);
        return DeriveIkeSaKeys(newSuite, skeyseed.Span, nonceI, nonceR, newSpiI, newSpiR);
    }

    /// <summary>
    /// KEYMAT = prf+(SK_d, Ni | Nr), or prf+(SK_d, g^ir (new) | Ni | Nr) with a CREATE_CHILD_SA KE
    /// (RFC 7296 2.17); pass an empty <paramref name="sharedSecret"/> when there is none.
    /// </summary>
    public static ChildSaKeys DeriveChildSaKeys(
        Prf prf, ReadOnlySpan<byte> skD, EspSuite suite, ReadOnlySpan<byte> sharedSecret, ReadOnlySpan<byte> nonceI, ReadOnlySpan<byte> nonceR)
    {
        using var seed = new SecretScratch(stackalloc byte[SecretScratch.StackSize], sharedSecret.Length + nonceI.Length + nonceR.Length);
        Concat(seed.Span, sharedSecret, nonceI, nonceR);
        using var keyMaterial = new SecretScratch(stackalloc byte[SecretScratch.StackSize], suite.KeyMaterialLength);
        PrfPlus(prf, skD, seed.Span, keyMaterial.Span);
        return new ChildSaKeys(suite, keyMaterial.Span);
    }

    /// <summary>CHILD_SA keys under an IKE SA: uses its PRF and SK_d.</summary>
    public static ChildSaKeys DeriveChildSaKeys(
        IkeSaKeys ikeSa, EspSuite suite, ReadOnlySpan<byte> sharedSecret, ReadOnlySpan<byte> nonceI, ReadOnlySpan<byte> nonceR) =>
        DeriveChildSaKeys(ikeSa.Suite.CreatePrf(), ikeSa.SkD, suite, sharedSecret, nonceI, nonceR);

    private static void Concat(Span<byte> destination, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, ReadOnlySpan<byte> c = default, ReadOnlySpan<byte> d = default)
    {
        a.CopyTo(destination);
        b.CopyTo(destination[a.Length..]);
        c.CopyTo(destination[(a.Length + b.Length)..]);
        d.CopyTo(destination[(a.Length + b.Length + c.Length)..]);
    }
}
