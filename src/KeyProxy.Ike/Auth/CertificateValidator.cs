using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using KeyProxy.Ike.Messages;

namespace KeyProxy.Ike.Auth;

/// <summary>
/// Validates a peer's certificates for IKE_AUTH (RFC 7296 3.6, RFC 4945 3 and 5): the first CERT
/// payload is the end entity whose key verifies AUTH, further X.509 CERT payloads are candidate
/// intermediates. The chain must end at one of the configured trust anchors (X509Chain in
/// CustomRootTrust mode: the system store is never consulted), every certificate must be valid at
/// the caller's <c>now</c> (sans-IO: no clock is read), and the peer's ID must appear in the end
/// entity (subject DN or subjectAltName).
/// <para>
/// No revocation checking is done (no CRL or OCSP fetch: this library performs no I/O) and
/// missing intermediates are never downloaded (AIA fetching is off). Deployments that need
/// revocation must use short-lived certificates or check revocation outside this class.
/// </para>
/// Thread-safe: each call builds its own chain.
/// </summary>
public sealed class CertificateValidator
{
    /// <summary>Intermediates accepted from one peer; more is refused (bounds chain-building work).</summary>
    public const int MaxIntermediates = 8;

    private readonly X509Certificate2[] _anchors;

    public CertificateValidator(IEnumerable<X509Certificate2> trustAnchors)
    {
        ArgumentNullException.ThrowIfNull(trustAnchors);
        _anchors = trustAnchors.ToArray();
        if (_anchors.Length == 0)
        {
            throw new ArgumentException("at least one trust anchor is required", nameof(trustAnchors));
        }
    }

    public IReadOnlyList<X509Certificate2> TrustAnchors => _anchors;

    /// <summary>
    /// Validates the peer's CERT payloads (RFC 7296 3.6): the first must be an X.509 certificate
    /// (encoding 4), later X.509 ones are intermediates, other encodings are ignored.
    /// </summary>
    /// <param name="certificates">The CERT payloads of the peer's IKE_AUTH message, in order.</param>
    /// <param name="peerIdentity">The identity from the peer's ID payload; null skips the ID check.</param>
    /// <param name="now">The validation time.</param>
    public CertificateValidationResult Validate(IReadOnlyList<CertificatePayload> certificates, IkeIdentity? peerIdentity, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(certificates);
        if (certificates.Count == 0)
        {
            return CertificateValidationResult.Invalid(AuthFailureReason.MissingCertificate, "the peer sent no CERT payload");
        }

        if (certificates[0].Encoding != CertificateEncoding.X509Signature)
        {
            return CertificateValidationResult.Invalid(
                AuthFailureReason.UnsupportedCertificateEncoding,
                $"first CERT payload has encoding {certificates[0].Encoding}; only X.509 Certificate - Signature (4) is supported");
        }

        if (!TryLoad(certificates[0].Data, out var endEntity))
        {
            return CertificateValidationResult.Invalid(AuthFailureReason.MalformedCertificate, "the end-entity CERT payload is not a DER X.509 certificate");
        }

        var intermediates = new List<X509Certificate2>();
        for (var i = 1; i < certificates.Count; i++)
        {
            if (certificates[i].Encoding != CertificateEncoding.X509Signature)
            {
                continue;
            }

            if (intermediates.Count == MaxIntermediates)
            {
                return CertificateValidationResult.Invalid(AuthFailureReason.MalformedCertificate, $"more than {MaxIntermediates} intermediate certificates", endEntity);
            }

            if (!TryLoad(certificates[i].Data, out var intermediate))
            {
                return CertificateValidationResult.Invalid(AuthFailureReason.MalformedCertificate, $"CERT payload {i + 1} is not a DER X.509 certificate", endEntity);
            }

            intermediates.Add(intermediate);
        }

        return Validate(endEntity, intermediates, peerIdentity, now);
    }

    /// <summary>Validates an end-entity certificate with candidate intermediates.</summary>
    public CertificateValidationResult Validate(X509Certificate2 endEntity, IEnumerable<X509Certificate2> intermediates, IkeIdentity? peerIdentity, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(endEntity);
        ArgumentNullException.ThrowIfNull(intermediates);

        var timeFailure = CheckValidityPeriod(endEntity, now, "certificate");
        if (timeFailure is not null)
        {
            return CertificateValidationResult.Invalid(timeFailure.Value.Reason, timeFailure.Value.Text, endEntity);
        }

        // RFC 4945 5.1.3.2: if keyUsage is present, digitalSignature or nonRepudiation must be set.
        var keyUsage = endEntity.Extensions.OfType<X509KeyUsageExtension>().FirstOrDefault();
        if (keyUsage is not null &&
            (keyUsage.KeyUsages & (X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.NonRepudiation)) == 0)
        {
            return CertificateValidationResult.Invalid(
                AuthFailureReason.CertificateKeyUsage,
                $"keyUsage of {endEntity.Subject} ({keyUsage.KeyUsages}) does not allow digital signatures",
                endEntity);
        }

        var chainResult = BuildChain(endEntity, intermediates, now);
        if (!chainResult.IsValid)
        {
            return chainResult;
        }

        if (peerIdentity is not null && !IdentityMatches(peerIdentity, endEntity))
        {
            return CertificateValidationResult.Invalid(
                AuthFailureReason.CertificateIdentityMismatch,
                $"peer ID {peerIdentity.Type} '{peerIdentity}' is neither the subject nor a subjectAltName of {endEntity.Subject}",
                endEntity);
        }

        return chainResult;
    }

    /// <summary>
    /// Whether an IKE identity is bound to a certificate (RFC 4945 3.1): DER_ASN1_DN equals the
    /// subject (or a directoryName subjectAltName) as a Name; FQDN, RFC822 and IP addresses equal a
    /// dNSName, rfc822Name or iPAddress subjectAltName; KEY_ID equals the subjectKeyIdentifier.
    /// </summary>
    public static bool IdentityMatches(IkeIdentity identity, X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(certificate);
        var data = identity.Data.Span;
        switch (identity.Type)
        {
            case IdType.DerAsn1Dn:
                return DistinguishedNames.AreEquivalent(data, certificate.SubjectName.RawData)
                    || SubjectAltNames.Read(certificate).DirectoryNames.Any(n => DistinguishedNames.AreEquivalent(identity.Data.Span, n));
            case IdType.Fqdn:
            {
                var name = Encoding.ASCII.GetString(data);
                return SubjectAltNames.Read(certificate).DnsNames.Any(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase));
            }

            case IdType.Rfc822Address:
            {
                var address = Encoding.ASCII.GetString(data);
                return SubjectAltNames.Read(certificate).Rfc822Names.Any(n => string.Equals(n, address, StringComparison.OrdinalIgnoreCase));
            }

            case IdType.Ipv4Address or IdType.Ipv6Address:
                return SubjectAltNames.Read(certificate).IPAddresses.Any(a => a.AsSpan().SequenceEqual(identity.Data.Span));
            case IdType.KeyId:
                var ski = certificate.Extensions.OfType<X509SubjectKeyIdentifierExtension>().FirstOrDefault();
                return ski is not null && ski.SubjectKeyIdentifierBytes.Span.SequenceEqual(data);
            default:
                return false;
        }
    }

    private CertificateValidationResult BuildChain(X509Certificate2 endEntity, IEnumerable<X509Certificate2> intermediates, DateTimeOffset now)
    {
        using var chain = new X509Chain();
        var policy = chain.ChainPolicy;
        policy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        policy.CustomTrustStore.AddRange(_anchors);
        policy.ExtraStore.AddRange(intermediates.ToArray());
        policy.RevocationMode = X509RevocationMode.NoCheck;
        policy.DisableCertificateDownloads = true;
        policy.VerificationTimeIgnored = false;
        policy.VerificationTime = now.UtcDateTime;

        bool built;
        try
        {
            built = chain.Build(endEntity);
        }
        catch (CryptographicException e)
        {
            return CertificateValidationResult.Invalid(AuthFailureReason.InvalidCertificateChain, $"chain building failed for {endEntity.Subject}: {e.Message}", endEntity);
        }

        var elements = chain.ChainElements;
        if (built && elements.Count > 0)
        {
            var top = elements[^1].Certificate;
            var anchor = _anchors.FirstOrDefault(a => a.RawDataMemory.Span.SequenceEqual(top.RawDataMemory.Span));
            if (anchor is not null)
            {
                return CertificateValidationResult.Valid(endEntity, anchor);
            }

            return CertificateValidationResult.Invalid(AuthFailureReason.UntrustedCertificate, $"chain of {endEntity.Subject} ends at {top.Subject}, not a trust anchor", endEntity);
        }

        // Name the first certificate of the chain that is outside its validity period.
        foreach (var element in elements)
        {
            var timeFailure = CheckValidityPeriod(element.Certificate, now, ReferenceEquals(element, elements[0]) ? "certificate" : "CA certificate");
            if (timeFailure is not null)
            {
                return CertificateValidationResult.Invalid(timeFailure.Value.Reason, timeFailure.Value.Text, endEntity);
            }
        }

        var flags = chain.ChainStatus.Aggregate(X509ChainStatusFlags.NoError, (all, s) => all | s.Status);
        var detail = string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct());
        if ((flags & (X509ChainStatusFlags.UntrustedRoot | X509ChainStatusFlags.PartialChain)) != 0)
        {
            var last = elements.Count > 0 ? elements[^1].Certificate : endEntity;
            return CertificateValidationResult.Invalid(
                AuthFailureReason.UntrustedCertificate,
                $"no chain from {endEntity.Subject} to a trust anchor (chain stops at {last.Subject}, issued by {last.Issuer})",
                endEntity);
        }

        return CertificateValidationResult.Invalid(
            AuthFailureReason.InvalidCertificateChain,
            $"chain of {endEntity.Subject} is invalid: {flags}{(detail.Length > 0 ? " (" + detail + ")" : string.Empty)}",
            endEntity);
    }

    private static (AuthFailureReason Reason, string Text)? CheckValidityPeriod(X509Certificate2 certificate, DateTimeOffset now, string what)
    {
        var notBefore = new DateTimeOffset(certificate.NotBefore.ToUniversalTime(), TimeSpan.Zero);
        var notAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero);
        if (now < notBefore)
        {
            return (AuthFailureReason.CertificateNotYetValid, $"{what} {certificate.Subject} is not valid before {notBefore:u} (now {now.ToUniversalTime():u})");
        }

        if (now > notAfter)
        {
            return (AuthFailureReason.CertificateExpired, $"{what} {certificate.Subject} expired at {notAfter:u} (now {now.ToUniversalTime():u})");
        }

        return null;
    }

    private static bool TryLoad(ReadOnlyMemory<byte> der, out X509Certificate2 certificate)
    {
        try
        {
            certificate = X509CertificateLoader.LoadCertificate(der.Span);
            return true;
        }
        catch (CryptographicException)
        {
            certificate = null!;
            return false;
        }
    }
}
