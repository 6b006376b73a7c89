using KeyProxy.Primitives;

namespace KeyProxy.Ike.Crypto;

/// <summary>Creates SK payload ciphers and gives the key sizes of IKE encryption and integrity transforms.</summary>
public static class SkCipherFactory
{
    /// <summary>AEAD transforms carry their own ICV and take no integrity transform (RFC 5282 8).</summary>
    public static bool IsAead(EncryptionAlgorithm algorithm) => TransformSizes.IsAead(algorithm);

    /// <summary>True when the combination is one this library implements.</summary>
    public static bool IsSupported(EncryptionAlgorithm algorithm, int keyBits, IntegrityAlgorithm integrity) =>
        TransformSizes.IsSupported(algorithm, keyBits, integrity);

    /// <summary>Bytes of SK_e taken from the key stream: the AES key, plus the 4-byte salt for AES-GCM (RFC 5282 7.1).</summary>
    public static int EncryptionKeyMaterialLength(EncryptionAlgorithm algorithm, int keyBits) =>
        TransformSizes.EncryptionKeyMaterialLength(algorithm, keyBits);

    /// <summary>Bytes of SK_a: the HMAC key is as long as the hash output (RFC 4868 2.1.1); 0 for <see cref="IntegrityAlgorithm.None"/>.</summary>
    public static int IntegrityKeyLength(IntegrityAlgorithm algorithm) => TransformSizes.IntegrityKeyLength(algorithm);

    /// <summary>Bytes of the ICV: the truncated HMAC (RFC 4868 2.1.1), 16 for AES-GCM-16; 0 for None.</summary>
    public static int IcvLength(IntegrityAlgorithm algorithm) => TransformSizes.IcvLength(algorithm);

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
