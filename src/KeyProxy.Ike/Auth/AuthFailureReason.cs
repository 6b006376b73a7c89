namespace KeyProxy.Ike.Auth;

/// <summary>
/// Why a peer's authentication was refused. Every reason is answered on the wire with
/// AUTHENTICATION_FAILED (RFC 7296 2.21.2); the reason is for our logs and counters only.
/// </summary>
public enum AuthFailureReason
{
    None = 0,

    /// <summary>The ID payload's data does not fit its type.</summary>
    MalformedIdentity,

    /// <summary>The peer identified itself as someone other than the configured expected identity.</summary>
    IdentityMismatch,

    /// <summary>The AUTH method is not one this peer may use (PSK where certificates are configured, a disabled legacy method, ...).</summary>
    UnexpectedAuthMethod,

    /// <summary>The AUTH data cannot be parsed (RFC 7427 3 layout, lengths).</summary>
    MalformedAuthData,

    /// <summary>The AlgorithmIdentifier names a scheme KeyProxy does not verify.</summary>
    UnsupportedSignatureAlgorithm,

    /// <summary>The signature uses a hash outside the accepted set (e.g. SHA-1 under RFC 7427).</summary>
    SignatureHashNotAccepted,

    /// <summary>The signature algorithm does not fit the certificate's key (ECDSA signature, RSA key; wrong curve for a legacy method).</summary>
    KeyTypeMismatch,

    /// <summary>The signature does not verify over the signed octets.</summary>
    InvalidSignature,

    /// <summary>The PSK AUTH value differs from the one computed with our copy of the key.</summary>
    PreSharedKeyMismatch,

    /// <summary>Certificate authentication without a CERT payload.</summary>
    MissingCertificate,

    /// <summary>The first CERT payload is not an X.509 certificate (encoding 4).</summary>
    UnsupportedCertificateEncoding,

    /// <summary>A CERT payload does not decode as a DER certificate, or there are too many.</summary>
    MalformedCertificate,

    /// <summary>The certificate's key is neither ECDSA nor RSA of an acceptable size.</summary>
    UnsupportedCertificateKey,

    /// <summary>A certificate of the chain is not valid yet at the given time.</summary>
    CertificateNotYetValid,

    /// <summary>A certificate of the chain has expired at the given time.</summary>
    CertificateExpired,

    /// <summary>No chain from the certificate to a configured trust anchor.</summary>
    UntrustedCertificate,

    /// <summary>A chain exists but is invalid (bad signature, CA constraints, ...).</summary>
    InvalidCertificateChain,

    /// <summary>The certificate's keyUsage does not allow digital signatures (RFC 4945 5.1.3.2).</summary>
    CertificateKeyUsage,

    /// <summary>The ID payload does not match the certificate's subject or subjectAltName (RFC 4945 3.1).</summary>
    CertificateIdentityMismatch,
}
