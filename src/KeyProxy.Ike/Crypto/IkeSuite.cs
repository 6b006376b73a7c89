using KeyProxy.Ike.Messages;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Crypto;

/// <summary>
/// A negotiated IKE SA suite (RFC 7296 3.3): encryption with its key length, integrity
/// (<see cref="IntegrityAlgorithm.None"/> for AEAD), PRF and Diffie-Hellman group, and the additional key exchanges
/// that follow in IKE_INTERMEDIATE exchanges (RFC 9370; none unless set).
/// </summary>
public sealed record IkeSuite(
    EncryptionAlgorithm Encryption,
    int EncryptionKeyBits,
    IntegrityAlgorithm Integrity,
    PrfAlgorithm Prf,
    DhGroup DhGroup)
{
    /// <summary>ADDITIONAL_KEY_EXCHANGE_1..7 (RFC 9370 2.2.2), for example ML-KEM after an X25519 IKE_SA_INIT.</summary>
    public AdditionalKeyExchanges AdditionalKeyExchanges { get; init; }

    public bool IsAead => SkCipherFactory.IsAead(Encryption);

    /// <summary>True when every transform is implemented here.</summary>
    public bool IsSupported =>
        SkCipherFactory.IsSupported(Encryption, EncryptionKeyBits, Integrity)
        && PrfFactory.IsSupported(Prf)
        && DhGroupInfo.IsSupported(DhGroup)
        && AdditionalMethodsSupported();

    private bool AdditionalMethodsSupported()
    {
        foreach (var method in AdditionalKeyExchanges.InExchangeOrder())
            if (!DhGroupInfo.IsSupportedMethod(method)) return false;
        return true;
    }

    /// <summary>Length of SK_ei and SK_er (AES-GCM: key plus 4-byte salt, RFC 5282 7.1).</summary>
    public int EncryptionKeyMaterialLength => SkCipherFactory.EncryptionKeyMaterialLength(Encryption, EncryptionKeyBits);

    /// <summary>Length of SK_ai and SK_ar (0 for AEAD).</summary>
    public int IntegrityKeyLength => SkCipherFactory.IntegrityKeyLength(Integrity);

    /// <summary>Length of SK_d, SK_pi and SK_pr: the PRF's preferred key size, its output length (RFC 7296 2.14).</summary>
    public int PrfKeyLength => PrfFactory.Create(Prf).OutputSize;

    /// <summary>Total bytes of prf+ output for {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} (RFC 7296 2.14).</summary>
    public int KeyMaterialLength => 3 * PrfKeyLength + 2 * IntegrityKeyLength + 2 * EncryptionKeyMaterialLength;

    public KeyProxy.Ike.Crypto.Prf CreatePrf() => PrfFactory.Create(Prf);

    /// <summary>Throws <see cref="NotSupportedException"/> unless <see cref="IsSupported"/>.</summary>
    public void EnsureSupported()
    {
        if (!IsSupported)
        {
            throw new NotSupportedException($"IKE suite {this} is not supported");
        }
    }

    public override string ToString() =>
        $"{Encryption}-{EncryptionKeyBits}/{Integrity}/{Prf}/{DhGroup}{AdditionalKeyExchanges}";
}
