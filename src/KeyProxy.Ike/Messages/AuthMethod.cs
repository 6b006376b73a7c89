namespace KeyProxy.Ike.Messages;

/// <summary>Authentication methods (RFC 7296 3.8, RFC 7427 3).</summary>
public enum AuthMethod : byte
{
    RsaDigitalSignature = 1,
    SharedKeyMessageIntegrityCode = 2,
    DssDigitalSignature = 3,
    EcdsaSha256P256 = 9,
    EcdsaSha384P384 = 10,
    EcdsaSha512P521 = 11,
    DigitalSignature = 14,
}

/// <summary>Certificate encodings (RFC 7296 3.6).</summary>
public enum CertificateEncoding : byte
{
    X509Signature = 4,
    RawRsaKey = 11,
    HashAndUrlX509 = 12,
}
