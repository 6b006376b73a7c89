using System.Security.Cryptography;

namespace KeyProxy.Ike.Crypto;

/// <summary>
/// The seven IKE SA secrets {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} (RFC 7296 2.14).
/// "i" keys protect initiator-to-responder messages. Dispose zeroes every key.
/// </summary>
public sealed class IkeSaKeys : IDisposable
{
    internal IkeSaKeys(IkeSuite suite, ReadOnlySpan<byte> keyMaterial)
    {
        Suite = suite;
        var rest = keyMaterial;
        SkD = Take(ref rest, suite.PrfKeyLength);
        SkAi = Take(ref rest, suite.IntegrityKeyLength);
        SkAr = Take(ref rest, suite.IntegrityKeyLength);
        SkEi = Take(ref rest, suite.EncryptionKeyMaterialLength);
        SkEr = Take(ref rest, suite.EncryptionKeyMaterialLength);
        SkPi = Take(ref rest, suite.PrfKeyLength);
        SkPr = Take(ref rest, suite.PrfKeyLength);
    }

    public IkeSuite Suite { get; }

    /// <summary>Key for deriving CHILD_SA keys and the next SKEYSEED (RFC 7296 2.17, 2.18).</summary>
    public byte[] SkD { get; }

    public byte[] SkAi { get; }

    public byte[] SkAr { get; }

    /// <summary>Initiator-to-responder encryption key (AES-GCM: key || salt).</summary>
    public byte[] SkEi { get; }

    public byte[] SkEr { get; }

    /// <summary>PRF key for the initiator's AUTH payload (RFC 7296 2.15).</summary>
    public byte[] SkPi { get; }

    public byte[] SkPr { get; }

    /// <summary>The SK cipher of one direction: initiator to responder uses SK_ei/SK_ai, the other SK_er/SK_ar.</summary>
    public ISkCipher CreateCipher(bool initiatorToResponder) => initiatorToResponder
        ? SkCipherFactory.Create(Suite.Encryption, Suite.EncryptionKeyBits, Suite.Integrity, SkEi, SkAi)
        : SkCipherFactory.Create(Suite.Encryption, Suite.EncryptionKeyBits, Suite.Integrity, SkEr, SkAr);

    /// <summary>Cipher for messages this side sends.</summary>
    public ISkCipher CreateOutboundCipher(bool isInitiator) => CreateCipher(initiatorToResponder: isInitiator);

    /// <summary>Cipher for messages this side receives.</summary>
    public ISkCipher CreateInboundCipher(bool isInitiator) => CreateCipher(initiatorToResponder: !isInitiator);

    /// <summary>Zeroes all key material.</summary>
    public void Clear()
    {
        CryptographicOperations.ZeroMemory(SkD);
        CryptographicOperations.ZeroMemory(SkAi);
        CryptographicOperations.ZeroMemory(SkAr);
        CryptographicOperations.ZeroMemory(SkEi);
        CryptographicOperations.ZeroMemory(SkEr);
        CryptographicOperations.ZeroMemory(SkPi);
        CryptographicOperations.ZeroMemory(SkPr);
    }

    public void Dispose() => Clear();

    internal static byte[] Take(ref ReadOnlySpan<byte> rest, int length)
    {
        var key = rest[..length].ToArray();
        rest = rest[length..];
        return key;
    }
}
