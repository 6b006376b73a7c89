namespace KeyProxy.Primitives;

/// <summary>
/// Which encryption and integrity transforms KeyProxy implements, and their key and ICV sizes; the same for IKE's
/// SK payloads (RFC 7296 3.14, RFC 5282) and for ESP (RFC 4303, RFC 4106, RFC 4868).
/// </summary>
public static class TransformSizes
{
    /// <summary>The salt after the AES key in AES-GCM key material (RFC 4106 8.1, RFC 5282 7.1).</summary>
    public const int GcmSaltLength = 4;

    /// <summary>AEAD transforms carry their own ICV and take no integrity transform (RFC 5282 8).</summary>
    public static bool IsAead(EncryptionAlgorithm algorithm) => algorithm == EncryptionAlgorithm.AesGcm16;

    /// <summary>True when the combination is one KeyProxy implements.</summary>
    public static bool IsSupported(EncryptionAlgorithm algorithm, int keyBits, IntegrityAlgorithm integrity) =>
        algorithm is EncryptionAlgorithm.AesCbc or EncryptionAlgorithm.AesGcm16
        && keyBits is 128 or 192 or 256
        && (IsAead(algorithm)
            ? integrity == IntegrityAlgorithm.None
            : integrity is IntegrityAlgorithm.HmacSha2_256_128 or IntegrityAlgorithm.HmacSha2_384_192 or IntegrityAlgorithm.HmacSha2_512_256);

    /// <summary>
    /// Bytes of encryption key material: the AES key, plus the 4-byte salt for AES-GCM
    /// (RFC 5282 7.1; likewise RFC 4106 8.1 for ESP).
    /// </summary>
    public static int EncryptionKeyMaterialLength(EncryptionAlgorithm algorithm, int keyBits)
    {
        if (keyBits is not (128 or 192 or 256))
        {
            throw new NotSupportedException($"AES key length {keyBits} is not supported");
        }

        return algorithm switch
        {
            EncryptionAlgorithm.AesCbc => keyBits / 8,
            EncryptionAlgorithm.AesGcm16 => keyBits / 8 + GcmSaltLength,
            _ => throw new NotSupportedException($"encryption algorithm {algorithm} is not supported"),
        };
    }

    /// <summary>Bytes of an integrity key: the HMAC key is as long as the hash output (RFC 4868 2.1.1); 0 for <see cref="IntegrityAlgorithm.None"/>.</summary>
    public static int IntegrityKeyLength(IntegrityAlgorithm algorithm) => algorithm switch
    {
        IntegrityAlgorithm.None => 0,
        IntegrityAlgorithm.HmacSha2_256_128 => 32,
        IntegrityAlgorithm.HmacSha2_384_192 => 48,
        IntegrityAlgorithm.HmacSha2_512_256 => 64,
        _ => throw new NotSupportedException($"integrity algorithm {algorithm} is not supported"),
    };

    /// <summary>Bytes of an HMAC ICV: the HMAC truncated to half its length (RFC 4868 2.1.1); 0 for <see cref="IntegrityAlgorithm.None"/>.</summary>
    public static int IcvLength(IntegrityAlgorithm algorithm) => IntegrityKeyLength(algorithm) / 2;
}
