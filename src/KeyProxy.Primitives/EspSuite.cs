namespace KeyProxy.Primitives;

/// <summary>
/// A negotiated ESP CHILD_SA suite: encryption with key length, integrity (None for AES-GCM,
/// RFC 4106) and extended sequence numbers. Key sizes follow RFC 4106 8.1 (AES-GCM: key plus
/// 4-byte salt) and RFC 4868 2.1.1 (HMAC key as long as the hash). <see cref="DhGroup"/> is the
/// PFS group a CREATE_CHILD_SA proposes (RFC 7296 1.3.1); IKE_AUTH's CHILD_SA never has one.
/// </summary>
public sealed record EspSuite(
    EncryptionAlgorithm Encryption,
    int EncryptionKeyBits,
    IntegrityAlgorithm Integrity,
    EsnMode Esn,
    DhGroup DhGroup = DhGroup.None)
{
    public bool IsAead => TransformSizes.IsAead(Encryption);

    public bool IsSupported => TransformSizes.IsSupported(Encryption, EncryptionKeyBits, Integrity);

    /// <summary>Encryption key bytes per direction (AES-GCM: key || 4-byte salt).</summary>
    public int EncryptionKeyMaterialLength => TransformSizes.EncryptionKeyMaterialLength(Encryption, EncryptionKeyBits);

    /// <summary>Integrity key bytes per direction (0 for AEAD).</summary>
    public int IntegrityKeyLength => TransformSizes.IntegrityKeyLength(Integrity);

    /// <summary>KEYMAT bytes for both directions (RFC 7296 2.17).</summary>
    public int KeyMaterialLength => 2 * (EncryptionKeyMaterialLength + IntegrityKeyLength);

    public override string ToString() => $"{Encryption}-{EncryptionKeyBits}/{Integrity}/{Esn}{(DhGroup == DhGroup.None ? "" : "/" + DhGroup)}";
}
