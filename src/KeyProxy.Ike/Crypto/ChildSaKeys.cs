using System.Security.Cryptography;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Crypto;

/// <summary>
/// CHILD_SA keys split from KEYMAT (RFC 7296 2.17): encryption then integrity key for the SA
/// carrying initiator-to-responder traffic, then the same for responder-to-initiator.
/// Dispose zeroes every key.
/// </summary>
public sealed class ChildSaKeys : IDisposable
{
    internal ChildSaKeys(EspSuite suite, ReadOnlySpan<byte> keyMaterial)
    {
        Suite = suite;
        var rest = keyMaterial;
        InitiatorEncryptionKey = IkeSaKeys.Take(ref rest, suite.EncryptionKeyMaterialLength);
        InitiatorIntegrityKey = IkeSaKeys.Take(ref rest, suite.IntegrityKeyLength);
        ResponderEncryptionKey = IkeSaKeys.Take(ref rest, suite.EncryptionKeyMaterialLength);
        ResponderIntegrityKey = IkeSaKeys.Take(ref rest, suite.IntegrityKeyLength);
    }

    public EspSuite Suite { get; }

    /// <summary>Encryption key (AES-GCM: key || 4-byte salt) of the initiator-to-responder SA.</summary>
    public byte[] InitiatorEncryptionKey { get; }

    /// <summary>Integrity key of the initiator-to-responder SA (empty for AEAD).</summary>
    public byte[] InitiatorIntegrityKey { get; }

    /// <summary>Encryption key of the responder-to-initiator SA.</summary>
    public byte[] ResponderEncryptionKey { get; }

    /// <summary>Integrity key of the responder-to-initiator SA (empty for AEAD).</summary>
    public byte[] ResponderIntegrityKey { get; }

    public void Clear()
    {
        CryptographicOperations.ZeroMemory(InitiatorEncryptionKey);
        CryptographicOperations.ZeroMemory(InitiatorIntegrityKey);
        CryptographicOperations.ZeroMemory(ResponderEncryptionKey);
        CryptographicOperations.ZeroMemory(ResponderIntegrityKey);
    }

    public void Dispose() => Clear();
}
