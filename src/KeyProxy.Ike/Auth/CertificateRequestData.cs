using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using KeyProxy.Ike.Messages;

namespace KeyProxy.Ike.Auth;

/// <summary>
/// The Certification Authority field of CERTREQ (RFC 7296 3.7): concatenated 20-octet SHA-1 hashes,
/// each over the DER SubjectPublicKeyInfo of a trusted CA certificate. Builds ours from our trust
/// anchors, reads the peer's, and picks which of our certificates to send in answer.
/// </summary>
public sealed class CertificateRequestData
{
    /// <summary>Length of one authority hash (SHA-1).</summary>
    public const int HashLength = 20;

    private readonly List<byte[]> _hashes;

    private CertificateRequestData(List<byte[]> hashes) => _hashes = hashes;

    /// <summary>An empty request: the peer asked for a certificate without naming CAs.</summary>
    public static CertificateRequestData Empty { get; } = new([]);

    /// <summary>The SHA-1 hashes, in order, duplicates removed.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> AuthorityHashes => _hashes.Select(h => (ReadOnlyMemory<byte>)h).ToArray();

    public bool IsEmpty => _hashes.Count == 0;

    /// <summary>SHA-1 of the certificate's DER SubjectPublicKeyInfo (RFC 7296 3.7, RFC 5280 4.1.2.7).</summary>
    public static byte[] ComputeAuthorityHash(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return SHA1.HashData(certificate.PublicKey.ExportSubjectPublicKeyInfo());
    }

    /// <summary>Our request, naming each trust anchor.</summary>
    public static CertificateRequestData FromTrustAnchors(IEnumerable<X509Certificate2> trustAnchors)
    {
        ArgumentNullException.ThrowIfNull(trustAnchors);
        var data = new CertificateRequestData([]);
        foreach (var anchor in trustAnchors)
        {
            data.Add(ComputeAuthorityHash(anchor));
        }

        return data;
    }

    /// <summary>Parses one Certification Authority field; false when its length is not a multiple of 20.</summary>
    public static bool TryParse(ReadOnlySpan<byte> authorities, out CertificateRequestData data)
    {
        data = Empty;
        if (authorities.Length % HashLength != 0)
        {
            return false;
        }

        var parsed = new CertificateRequestData([]);
        for (var offset = 0; offset < authorities.Length; offset += HashLength)
        {
            parsed.Add(authorities.Slice(offset, HashLength).ToArray());
        }

        data = parsed;
        return true;
    }

    /// <summary>
    /// Merges the peer's CERTREQ payloads of X.509 encoding (4). Payloads of other encodings, and
    /// ones of malformed length, are skipped. Null when there is no X.509 CERTREQ at all.
    /// </summary>
    public static CertificateRequestData? FromPayloads(IEnumerable<CertificateRequestPayload> payloads)
    {
        ArgumentNullException.ThrowIfNull(payloads);
        CertificateRequestData? merged = null;
        foreach (var payload in payloads)
        {
            if (payload.Encoding != CertificateEncoding.X509Signature || !TryParse(payload.Authorities.Span, out var one))
            {
                continue;
            }

            merged ??= new CertificateRequestData([]);
            foreach (var hash in one._hashes)
            {
                merged.Add(hash);
            }
        }

        return merged;
    }

    /// <summary>The Certification Authority field.</summary>
    public byte[] Encode()
    {
        var encoded = new byte[_hashes.Count * HashLength];
        for (var i = 0; i < _hashes.Count; i++)
        {
            _hashes[i].CopyTo(encoded, i * HashLength);
        }

        return encoded;
    }

    /// <summary>The CERTREQ payload (X.509 encoding) to send.</summary>
    public CertificateRequestPayload ToPayload() => new(CertificateEncoding.X509Signature, Encode());

    /// <summary>Whether this request names the CA certificate's public key.</summary>
    public bool Names(X509Certificate2 caCertificate)
    {
        var hash = ComputeAuthorityHash(caCertificate);
        return _hashes.Any(h => h.AsSpan().SequenceEqual(hash));
    }

    /// <summary>Whether a CA of the credential's path (an intermediate, or a root given with it) is named.</summary>
    public bool NamesAnyCaOf(CertificateCredential credential)
    {
        ArgumentNullException.ThrowIfNull(credential);
        return credential.CertificationPath.Skip(1).Any(Names);
    }

    /// <summary>
    /// The certificates to send (RFC 7296 3.6, 3.7): the end entity first, then intermediates up the
    /// path until one is issued by a CA the peer named, which the peer already has. If the peer named
    /// none of ours (or no CA at all), the end entity and every intermediate. Self-issued roots are
    /// never sent.
    /// </summary>
    public IReadOnlyList<X509Certificate2> SelectCertificates(CertificateCredential credential)
    {
        ArgumentNullException.ThrowIfNull(credential);
        var path = credential.CertificationPath;
        var selected = new List<X509Certificate2> { path[0] };
        for (var i = 0; i + 1 < path.Count; i++)
        {
            var issuer = path[i + 1];
            if (Names(issuer) || CertificateCredential.IsSelfIssued(issuer))
            {
                break;
            }

            selected.Add(issuer);
        }

        return selected;
    }

    /// <summary>The CERT payloads (X.509, DER) for <see cref="SelectCertificates"/>.</summary>
    public IReadOnlyList<CertificatePayload> SelectCertificatePayloads(CertificateCredential credential) =>
        SelectCertificates(credential).Select(ToCertificatePayload).ToArray();

    /// <summary>A CERT payload with a DER certificate (encoding 4, RFC 7296 3.6).</summary>
    public static CertificatePayload ToCertificatePayload(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return new CertificatePayload(CertificateEncoding.X509Signature, certificate.RawData);
    }

    public override string ToString() =>
        IsEmpty ? "CERTREQ(any CA)" : "CERTREQ(" + string.Join(", ", _hashes.Select(h => Convert.ToHexString(h).ToLowerInvariant())) + ")";

    private void Add(byte[] hash)
    {
        if (!_hashes.Any(h => h.AsSpan().SequenceEqual(hash)))
        {
            _hashes.Add(hash);
        }
    }
}
