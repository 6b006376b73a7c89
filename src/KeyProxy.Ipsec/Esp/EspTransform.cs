using KeyProxy.Primitives;

namespace KeyProxy.Ipsec.Esp;

/// <summary>
/// The cryptographic part of one direction of an ESP SA: IV, encryption and ICV over an ESP packet laid out
/// as SPI | Sequence Number | IV | ciphertext | ICV (RFC 4303 2). Not thread-safe: the SA serialises calls.
/// </summary>
internal abstract class EspTransform : IDisposable
{
    /// <summary>Bytes of the IV field.</summary>
    public abstract int IvLength { get; }

    /// <summary>Bytes of the ICV field.</summary>
    public abstract int IcvLength { get; }

    /// <summary>The ciphertext (payload + padding + trailer) must be a multiple of this (RFC 4303 2.4).</summary>
    public abstract int BlockAlignment { get; }

    /// <summary>
    /// Writes the IV, encrypts the plaintext already in place after it and writes the ICV.
    /// <paramref name="packet"/> is the whole ESP packet with header and plaintext filled in.
    /// </summary>
    public abstract void Seal(Span<byte> packet, ulong sequenceNumber, bool esn);

    /// <summary>
    /// Verifies the ICV of <paramref name="packet"/> (with the inferred high sequence bits when ESN) and, when it
    /// verifies, decrypts the ciphertext into <paramref name="plaintext"/> (exactly the ciphertext length).
    /// </summary>
    public abstract bool Open(ReadOnlySpan<byte> packet, ulong sequenceNumber, bool esn, Span<byte> plaintext);

    public abstract void Dispose();

    public static EspTransform Create(EspSuite suite, ReadOnlySpan<byte> encryptionKey, ReadOnlySpan<byte> integrityKey, IRandomSource random)
    {
        if (!suite.IsSupported)
        {
            throw new ArgumentException($"ESP suite {suite} is not supported", nameof(suite));
        }

        if (encryptionKey.Length != suite.EncryptionKeyMaterialLength)
        {
            throw new ArgumentException($"{suite} needs {suite.EncryptionKeyMaterialLength} bytes of encryption key material", nameof(encryptionKey));
        }

        if (integrityKey.Length != suite.IntegrityKeyLength)
        {
            throw new ArgumentException($"{suite} needs {suite.IntegrityKeyLength} bytes of integrity key", nameof(integrityKey));
        }

        return suite.Encryption switch
        {
            EncryptionAlgorithm.AesGcm16 => new EspAesGcmTransform(encryptionKey, random),
            _ => new EspAesCbcHmacTransform(encryptionKey, suite.Integrity, integrityKey, random),
        };
    }
}
