namespace KeyProxy.Primitives;

/// <summary>Transform type 1 ids used here (IANA "Transform Type 1").</summary>
public enum EncryptionAlgorithm : ushort
{
    AesCbc = 12,
    AesGcm16 = 20,
}

/// <summary>Transform type 2 ids (RFC 4868).</summary>
public enum PrfAlgorithm : ushort
{
    HmacSha2_256 = 5,
    HmacSha2_384 = 6,
    HmacSha2_512 = 7,
}

/// <summary>Transform type 3 ids (RFC 4868). <see cref="None"/> for AEAD ciphers.</summary>
public enum IntegrityAlgorithm : ushort
{
    None = 0,
    HmacSha2_256_128 = 12,
    HmacSha2_384_192 = 13,
    HmacSha2_512_256 = 14,
}

/// <summary>
/// Transform type 4 ids, "Key Exchange Method" since RFC 9370 (also the ids of ADDITIONAL_KEY_EXCHANGE_1..7):
/// Diffie-Hellman groups (RFC 3526, RFC 5903, RFC 8031) and ML-KEM (FIPS 203, draft-ietf-ipsecme-ikev2-mlkem).
/// </summary>
public enum DhGroup : ushort
{
    None = 0,
    Modp2048 = 14,
    Ecp256 = 19,
    Ecp384 = 20,
    Curve25519 = 31,
    MlKem512 = 35,
    MlKem768 = 36,
    MlKem1024 = 37,
}

/// <summary>Transform type 5 ids.</summary>
public enum EsnMode : ushort
{
    NoEsn = 0,
    Esn = 1,
}
