namespace KeyProxy.Ike.Auth;

/// <summary>
/// Hash algorithm ids carried in the SIGNATURE_HASH_ALGORITHMS notify (RFC 7427 4, IANA
/// "IKEv2 Hash Algorithms"; <see cref="Identity"/> from RFC 8420).
/// </summary>
public enum SignatureHashAlgorithm : ushort
{
    Sha1 = 1,
    Sha2_256 = 2,
    Sha2_384 = 3,
    Sha2_512 = 4,
    Identity = 5,
}
