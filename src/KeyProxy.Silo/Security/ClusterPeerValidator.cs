using System.Security.Cryptography.X509Certificates;

namespace KeyProxy.Silo.Security;

/// <summary>
/// Validates a cluster peer's certificate against the CA certificate(s) the cluster trusts, and nothing else: an
/// <see cref="X509Chain"/> in <see cref="X509ChainTrustMode.CustomRootTrust"/> (RFC 5280 6.1: the configured CAs are the
/// only trust anchors; the machine's store plays no part), validity period checked, and the extended key usage the
/// peer's role needs (RFC 5280 4.2.1.12: TLS server authentication for a silo this one connects to, client
/// authentication for a silo or client connecting here). Revocation is not checked: a private cluster CA publishes no
/// CRL; replace the CA to revoke.
/// </summary>
public sealed class ClusterPeerValidator(X509Certificate2Collection trustedCas)
{
    public X509Certificate2Collection TrustedCas { get; } = trustedCas.Count > 0 ? trustedCas
        : throw new ArgumentException("at least one CA certificate is needed", nameof(trustedCas));

    /// <param name="certificate">The peer's certificate.</param>
    /// <param name="presented">The chain the TLS stack built from what the peer sent (its intermediates are used, never as anchors), or null.</param>
    /// <param name="peerIsServer">True when this side connected (the peer must be a TLS server), false when the peer connected here.</param>
    /// <param name="at">The time to validate at; now when null.</param>
    public PeerVerdict Validate(X509Certificate2 certificate, X509Chain? presented, bool peerIsServer, DateTime? at = null)
    {
        using var chain = new X509Chain();
        var policy = chain.ChainPolicy;
        policy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        policy.CustomTrustStore.AddRange(TrustedCas);
        policy.RevocationMode = X509RevocationMode.NoCheck;
        policy.DisableCertificateDownloads = true;
        policy.VerificationTime = at ?? DateTime.Now;
        policy.ApplicationPolicy.Add(new System.Security.Cryptography.Oid(peerIsServer
            ? DevelopmentCertificateAuthority.ServerAuthOid : DevelopmentCertificateAuthority.ClientAuthOid));
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements.Skip(1)) policy.ExtraStore.Add(element.Certificate);
        }

        if (chain.Build(certificate))
        {
            return new PeerVerdict(true, PeerVerdict.TrustedReason, "chains to a cluster CA");
        }

        var flags = chain.ChainStatus.Aggregate(X509ChainStatusFlags.NoError, (all, s) => all | s.Status);
        var reason =
            (flags & (X509ChainStatusFlags.NotTimeValid | X509ChainStatusFlags.NotTimeNested)) != 0 ? PeerVerdict.Expired :
            (flags & (X509ChainStatusFlags.UntrustedRoot | X509ChainStatusFlags.PartialChain)) != 0 ? PeerVerdict.Untrusted :
            (flags & X509ChainStatusFlags.NotValidForUsage) != 0 ? PeerVerdict.WrongUsage :
            PeerVerdict.Invalid;
        var detail = string.Join("; ", chain.ChainStatus.Select(s => $"{s.Status}: {s.StatusInformation.Trim()}").Distinct());
        return new PeerVerdict(false, reason, detail.Length > 0 ? detail : "the chain did not build");
    }
}
