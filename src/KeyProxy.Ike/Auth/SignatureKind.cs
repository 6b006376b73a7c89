namespace KeyProxy.Ike.Auth;

/// <summary>The signature scheme family behind an RFC 7427 AlgorithmIdentifier.</summary>
public enum SignatureKind
{
    /// <summary>ECDSA (RFC 5758 3.2); under RFC 7427 the value is a DER ECDSA-Sig-Value (RFC 3279 2.2.3).</summary>
    Ecdsa,

    /// <summary>RSASSA-PKCS1-v1_5 (RFC 8017 8.2).</summary>
    RsaPkcs1,

    /// <summary>RSASSA-PSS (RFC 8017 8.1) with the parameters of RFC 4055 3.1.</summary>
    RsaPss,
}
