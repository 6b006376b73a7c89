namespace KeyProxy.Silo.Security;

/// <summary>
/// Mutual TLS between silos and on the client gateway ("KeyProxy:ClusterTls", issue 16 item 3). The silo presents the
/// certificate of <see cref="CertificatePath"/> with the key of <see cref="PrivateKeyPath"/> and accepts only peers whose
/// certificate chains to a CA of <see cref="CaCertificatePath"/> (never the machine's trust store). With none of the three
/// set, Development mode makes a local CA and a silo certificate (<see cref="DevelopmentCertificateAuthority"/>);
/// Production mode refuses to start.
/// </summary>
public sealed class ClusterTlsOptions
{
    public const string SectionName = KeyProxySiloOptions.SectionName + ":ClusterTls";

    /// <summary>TLS on the silo and gateway ports; false is refused in Production mode (measurements and debugging only).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>PEM file with this silo's certificate (it may also hold intermediates after it). Its extended key usage must
    /// allow both TLS server and client authentication (RFC 5280 4.2.1.12): a silo is both to its peers.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>PEM file with the certificate's unencrypted private key (PKCS#8, EC or RSA); may be the certificate's own file.</summary>
    public string? PrivateKeyPath { get; set; }

    /// <summary>PEM file with the CA certificate(s) the cluster trusts: silos and clients are accepted only with a certificate they issued.</summary>
    public string? CaCertificatePath { get; set; }

    /// <summary>How long a TLS handshake may take before the connection is dropped.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public bool IsConfigured => CertificatePath is not null || PrivateKeyPath is not null || CaCertificatePath is not null;

    /// <summary>Problems with these settings (<paramref name="production"/>: Mode=Production); files are read later, at start.</summary>
    public IReadOnlyList<string> Validate(bool production)
    {
        var errors = new List<string>();
        if (!Enabled)
        {
            if (production)
                errors.Add($"{SectionName}:Enabled=false is refused in Production mode: silos and clients must authenticate each other (issue 16)");
            return errors;
        }

        if (HandshakeTimeout <= TimeSpan.Zero || HandshakeTimeout > TimeSpan.FromMinutes(5))
            errors.Add($"{SectionName}:HandshakeTimeout {HandshakeTimeout} is not between 0 and 5 minutes");

        if (SettingGroup.Problem(SectionName, [(nameof(CertificatePath), !string.IsNullOrWhiteSpace(CertificatePath)),
                (nameof(PrivateKeyPath), !string.IsNullOrWhiteSpace(PrivateKeyPath)), (nameof(CaCertificatePath), !string.IsNullOrWhiteSpace(CaCertificatePath))], production,
                "cluster TLS needs this silo's certificate (PEM), its private key (PEM) and the CA certificate(s) the cluster trusts (PEM)",
                "give CertificatePath, PrivateKeyPath and CaCertificatePath together, or none of them for Development mode's local CA") is { } problem)
            errors.Add(problem);
        return errors;
    }
}
