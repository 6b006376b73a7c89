namespace KeyProxy.Silo.Security;

/// <summary>
/// "KeyProxy:AdminHttps" (issue 16 item 2): TLS on the admin API and dashboard listener (Kestrel). The listener presents
/// the certificate of <see cref="CertificatePath"/> with the key of <see cref="PrivateKeyPath"/>. With neither set,
/// Development mode issues one from its local CA (<see cref="DevelopmentCertificateAuthority"/>), which clients trust
/// through <c>cluster-ca.pem</c>; Production mode refuses to start.
/// </summary>
public sealed class AdminHttpsOptions
{
    public const string SectionName = KeyProxySiloOptions.SectionName + ":AdminHttps";

    /// <summary>HTTPS on the listener; false is refused in Production mode (measurements and debugging only).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>PEM file with the server certificate (intermediates may follow it); its extended key usage must allow TLS server authentication.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>PEM file with the certificate's unencrypted private key; may be the certificate's own file.</summary>
    public string? PrivateKeyPath { get; set; }

    public bool IsConfigured => CertificatePath is not null || PrivateKeyPath is not null;

    public IReadOnlyList<string> Validate(bool production)
    {
        var errors = new List<string>();
        if (!Enabled)
        {
            if (production)
                errors.Add($"{SectionName}:Enabled=false is refused in Production mode: tokens and subscriber secrets must not cross the network in clear (issue 16)");
            return errors;
        }

        if (SettingGroup.Problem(SectionName, [(nameof(CertificatePath), !string.IsNullOrWhiteSpace(CertificatePath)),
                (nameof(PrivateKeyPath), !string.IsNullOrWhiteSpace(PrivateKeyPath))], production,
                "the admin API and dashboard listener needs its server certificate (PEM) and private key (PEM)",
                "give CertificatePath and PrivateKeyPath together, or neither for Development mode's local CA") is { } problem)
            errors.Add(problem);
        return errors;
    }
}
