using System.Security.Cryptography.X509Certificates;

namespace KeyProxy.Ike.Auth;

/// <summary>
/// How we verify one peer (RFC 7296 2.15): either with a pre-shared key, or with certificates that
/// must chain to one of a set of trust anchors. Optionally the identity the peer must prove; null
/// accepts whichever identity the peer proves (for certificates: one its certificate carries).
/// </summary>
public sealed class PeerAuthentication
{
    private CertificateValidator? _validator;

    private PeerAuthentication(PreSharedKeyCredential? preSharedKey, IReadOnlyList<X509Certificate2> trustAnchors, IkeIdentity? expectedIdentity)
    {
        PreSharedKey = preSharedKey;
        TrustAnchors = trustAnchors;
        ExpectedIdentity = expectedIdentity;
    }

    /// <summary>Set for PSK authentication (AUTH method 2).</summary>
    public PreSharedKeyCredential? PreSharedKey { get; }

    /// <summary>The CA certificates trusted for this peer; empty for PSK.</summary>
    public IReadOnlyList<X509Certificate2> TrustAnchors { get; }

    public IkeIdentity? ExpectedIdentity { get; }

    public bool UsesCertificates => PreSharedKey is null;

    /// <summary>Hashes accepted in Digital Signature AUTH (RFC 7427 3) and announced in SIGNATURE_HASH_ALGORITHMS. Default SHA2-256/384/512.</summary>
    public IReadOnlyList<SignatureHashAlgorithm> AcceptedHashes { get; init; } = SignatureHashAlgorithms.Supported;

    /// <summary>
    /// Accept the legacy signature methods RSA_DIGITAL_SIGNATURE (1, PKCS#1 v1.5 with SHA-1, RFC 7296
    /// 3.8) and ECDSA_SHA*_P* (9, 10, 11, RFC 4754) from the peer. Default true; KeyProxy never sends them.
    /// </summary>
    public bool AcceptLegacySignatureMethods { get; init; } = true;

    /// <summary>The validator over <see cref="TrustAnchors"/>; null for PSK.</summary>
    public CertificateValidator? CertificateValidator =>
        UsesCertificates ? _validator ??= new CertificateValidator(TrustAnchors) : null;

    /// <summary>The CERTREQ data naming our trust anchors (RFC 7296 3.7); null for PSK.</summary>
    public CertificateRequestData? CertificateRequest =>
        UsesCertificates ? CertificateRequestData.FromTrustAnchors(TrustAnchors) : null;

    public static PeerAuthentication WithPreSharedKey(PreSharedKeyCredential preSharedKey, IkeIdentity? expectedIdentity = null)
    {
        ArgumentNullException.ThrowIfNull(preSharedKey);
        return new PeerAuthentication(preSharedKey, [], expectedIdentity);
    }

    public static PeerAuthentication WithPreSharedKey(byte[] key, IkeIdentity? expectedIdentity = null) =>
        WithPreSharedKey(new PreSharedKeyCredential(key), expectedIdentity);

    public static PeerAuthentication WithTrustAnchors(IEnumerable<X509Certificate2> trustAnchors, IkeIdentity? expectedIdentity = null)
    {
        ArgumentNullException.ThrowIfNull(trustAnchors);
        var anchors = trustAnchors.ToArray();
        if (anchors.Length == 0)
        {
            throw new ArgumentException("at least one trust anchor is required", nameof(trustAnchors));
        }

        return new PeerAuthentication(null, anchors, expectedIdentity);
    }

    public override string ToString()
    {
        var expected = ExpectedIdentity?.ToString() ?? "any identity";
        return UsesCertificates
            ? $"PeerAuthentication(certificates under {string.Join("; ", TrustAnchors.Select(a => a.Subject))}; expect {expected})"
            : $"PeerAuthentication(pre-shared key; expect {expected})";
    }
}
