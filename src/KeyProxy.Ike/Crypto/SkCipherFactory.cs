using KeyProxy.Ike.Messages;

namespace KeyProxy.Ike.Crypto;

/// <summary>Creates SK payload ciphers and gives the key sizes of IKE encryption and integrity transforms.</summary>
public static class SkCipherFactory
{
    /// <summary>AEAD transforms carry their own ICV and take no integrity transform (RFC 5282 8).</summary>
    public static bool IsAead(EncryptionAlgorithm algorithm) => algorithm == EncryptionAlgorithm.AesGcm16;

    /// <summary>True when the combination is one this library implements.</summary>
    public static bool IsSupported(EncryptionAlgorithm algorithm, int keyBits, IntegrityAlgorithm integrity) =>
        algorithm is EncryptionAlgorithm.AesCbc or EncryptionAlgorithm.AesGcm16
        && keyBits is 128 or 192 or 256
        && (IsAead(algorithm)
            ? integrity == IntegrityAlgorithm.None
            : integrity is IntegrityAlgorithm.HmacSha2_256_128 or IntegrityAlgorithm.HmacSha2_384_192 or IntegrityAlgorithm.HmacSha2_512_256);

    /// <summary>
    /// Bytes of SK_e taken from the key stream: the AES key, plus the 4-byte salt for AES-GCM
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
            EncryptionAlgorithm.AesGcm16 => keyBits / 8 + AesGcmSkCipher.SaltLength,
            _ => throw new NotSupportedException($"encryption algorithm {algorithm} is not supported"),
        };
    }

    /// <summary>Bytes of SK_a: the HMAC key is as long as the hash output (RFC 4868 2.1.1); 0 for <see cref="IntegrityAlgorithm.None"/>.</summary>
    public static int IntegrityKeyLength(IntegrityAlgorithm algorithm) => IntegrityHmac.KeyLength(algorithm);

    /// <summary>Bytes of the ICV: the truncated HMAC (RFC 4868 2.1.1), 16 for AES-GCM-16; 0 for None.</summary>
    public static int IcvLength(IntegrityAlgorithm algorithm) => IntegrityHmac.IcvLength(algorithm);

    /// <summary>
    /// A cipher for one direction. AES-GCM: <paramref name="integrity"/> must be None and
    /// <paramref name="integrityKey"/> empty; AES-CBC: an HMAC-SHA2 integrity transform and its key.
    /// </summary>
    public static ISkCipher Create(
        EncryptionAlgorithm algorithm,
        int keyBits,
        IntegrityAlgorithm integrity,
        ReadOnlySpan<byte> encryptionKeyMaterial,
        ReadOnlySpan<byte> integrityKey)
    {
        if (!IsSupported(algorithm, keyBits, integrity))
        {
            throw new NotSupportedException($"SK cipher {algorithm}-{keyBits} with {integrity} is not supported");
        }

        if (encryptionKeyMaterial.Length != EncryptionKeyMaterialLength(algorithm, keyBits))
        {
            throw new ArgumentException($"{algorithm}-{keyBits} needs {EncryptionKeyMaterialLength(algorithm, keyBits)} bytes of key material", nameof(encryptionKeyMaterial));
        }

        if (IsAead(algorithm))
        {
            if (!integrityKey.IsEmpty)
            {
                throw new ArgumentException("AEAD ciphers take no integrity key", nameof(integrityKey));
            }

            return new AesGcmSkCipher(encryptionKeyMaterial);
        }

        return new AesCbcHmacSkCipher(encryptionKeyMaterial, integrity, integrityKey);
    }
}
