using System.Security.Cryptography.X509Certificates;
using KeyProxy.Ike.Messages;

namespace KeyProxy.Ike.Auth;

/// <summary>
/// An end-entity certificate with its private key (ECDSA P-256/P-384/P-521 or RSA of at least 2048
/// bits) and the intermediates to send with it, for Digital Signature AUTH (RFC 7427 3). The
/// credential does not own the certificates: the caller disposes them.
/// </summary>
public sealed class CertificateCredential : IkeCredential
{
    /// <summary>RSA keys below this size are refused (RFC 8247 3.2 discourages them).</summary>
    public const int MinimumRsaKeySize = 2048;

    private readonly List<X509Certificate2> _path;

    /// <param name="certificate">The end-entity certificate; must carry its private key.</param>
    /// <param name="intermediates">CA certificates up the chain, in any order. A root may be included: it helps match
    /// the peer's CERTREQ but is never sent.</param>
    public CertificateCredential(X509Certificate2 certificate, IReadOnlyList<X509Certificate2>? intermediates = null)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (!certificate.HasPrivateKey)
        {
            throw new ArgumentException($"certificate {certificate.Subject} has no private key", nameof(certificate));
        }

        using (var ecdsa = certificate.GetECDsaPrivateKey())
        {
            if (ecdsa is not null)
            {
                IsEcdsa = true;
                KeySize = ecdsa.KeySize;
                if (KeySize is not (256 or 384 or 521))
                {
                    throw new ArgumentException($"unsupported ECDSA curve size {KeySize}", nameof(certificate));
                }
            }
        }

        if (!IsEcdsa)
        {
            using var rsa = certificate.GetRSAPrivateKey()
                ?? throw new ArgumentException("the private key must be ECDSA or RSA", nameof(certificate));
            KeySize = rsa.KeySize;
            if (KeySize < MinimumRsaKeySize)
            {
                throw new ArgumentException($"RSA key of {KeySize} bits; at least {MinimumRsaKeySize} required", nameof(certificate));
            }
        }

        Certificate = certificate;
        Intermediates = intermediates?.ToArray() ?? [];
        _path = BuildPath(certificate, Intermediates);
    }

    public override AuthMethod Method => AuthMethod.DigitalSignature;

    public X509Certificate2 Certificate { get; }

    public IReadOnlyList<X509Certificate2> Intermediates { get; }

    /// <summary>
    /// For RSA keys: sign with RSASSA-PSS (true, the default; RFC 8247 3.2 and 4.1) or with
    /// RSASSA-PKCS1-v1_5 (false, for peers that cannot verify PSS).
    /// </summary>
    public bool UseRsaPss { get; init; } = true;

    /// <summary>The ID_DER_ASN1_DN of the certificate subject; the usual identity for a certificate.</summary>
    public IkeIdentity SubjectIdentity => IkeIdentity.FromCertificateSubject(Certificate);

    /// <summary>The end entity followed by the intermediates that chain from it by issuer name, in order.</summary>
    public IReadOnlyList<X509Certificate2> CertificationPath => _path;

    internal bool IsEcdsa { get; }

    internal int KeySize { get; }

    /// <summary>The hash that matches the key's strength: SHA2-384 for P-384, SHA2-512 for P-521, else SHA2-256.</summary>
    internal SignatureHashAlgorithm PreferredHash => (IsEcdsa, KeySize) switch
    {
        (true, 384) => SignatureHashAlgorithm.Sha2_384,
        (true, 521) => SignatureHashAlgorithm.Sha2_512,
        _ => SignatureHashAlgorithm.Sha2_256,
    };

    public override string ToString() =>
        $"CertificateCredential({Certificate.Subject}, {(IsEcdsa ? "ECDSA" : "RSA")}-{KeySize}, sha1 {Certificate.Thumbprint})";

    private static List<X509Certificate2> BuildPath(X509Certificate2 endEntity, IReadOnlyList<X509Certificate2> intermediates)
    {
        var path = new List<X509Certificate2> { endEntity };
        var remaining = intermediates.ToList();
        var current = endEntity;
        while (!IsSelfIssued(current))
        {
            var issuer = remaining.FirstOrDefault(c => DistinguishedNames.AreEquivalent(c.SubjectName.RawData, current.IssuerName.RawData));
            if (issuer is null)
            {
                break;
            }

            path.Add(issuer);
            remaining.Remove(issuer);
            current = issuer;
        }

        return path;
    }

    internal static bool IsSelfIssued(X509Certificate2 certificate) =>
        DistinguishedNames.AreEquivalent(certificate.SubjectName.RawData, certificate.IssuerName.RawData);
}
