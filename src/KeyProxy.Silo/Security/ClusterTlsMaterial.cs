using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace KeyProxy.Silo.Security;

/// <summary>
/// This silo's certificate (with its private key) and the CA certificate(s) the cluster trusts, loaded at start from the
/// configured PEM files or made by Development mode's local CA. Loading checks what would otherwise fail only at the
/// first connection: the key matches the certificate, the certificate is valid now, allows TLS server and client
/// authentication, and chains to one of the CAs. Every problem is a <see cref="SiloConfigurationException"/> (exit code 2)
/// naming the file, never key material.
/// </summary>
public sealed class ClusterTlsMaterial
{
    private ClusterTlsMaterial(X509Certificate2 certificate, X509Certificate2Collection trustedCas, TimeSpan handshakeTimeout)
    {
        Certificate = certificate;
        Validator = new ClusterPeerValidator(trustedCas);
        HandshakeTimeout = handshakeTimeout;
    }

    /// <summary>What this silo presents, server and client side.</summary>
    public X509Certificate2 Certificate { get; }

    public ClusterPeerValidator Validator { get; }

    public TimeSpan HandshakeTimeout { get; }

    /// <summary>
    /// The material of <paramref name="options"/>' ClusterTls section; null when cluster TLS is off (Development only).
    /// Development mode without certificate settings uses the local CA in <paramref name="developmentDirectory"/>,
    /// saying where on <paramref name="notice"/>.
    /// </summary>
    public static ClusterTlsMaterial? Load(ClusterTlsOptions options, bool production, string developmentDirectory, IPAddress? advertisedAddress, TextWriter notice)
    {
        if (!options.Enabled)
        {
            notice.WriteLine($"KeyProxy cluster TLS: off ({ClusterTlsOptions.SectionName}:Enabled=false): silo and gateway connections are not authenticated or encrypted");
            return null;
        }

        if (!options.IsConfigured && !production)
        {
            return FromDevelopmentCa(options, developmentDirectory, advertisedAddress, notice);
        }

        var errors = new List<string>();
        var cas = ReadCas(options.CaCertificatePath!, errors);
        X509Certificate2? certificate = null;
        try
        {
            certificate = X509Certificate2.CreateFromPemFile(options.CertificatePath!, options.PrivateKeyPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            errors.Add($"{ClusterTlsOptions.SectionName}:CertificatePath '{options.CertificatePath}' with PrivateKeyPath '{options.PrivateKeyPath}': " +
                $"{e.Message} (the certificate and its unencrypted private key, PEM)");
        }

        if (certificate is not null && cas.Count > 0) errors.AddRange(CheckOwn(certificate, cas, options.CertificatePath!));
        if (errors.Count > 0) throw new SiloConfigurationException(errors);
        notice.WriteLine($"KeyProxy cluster TLS: certificate {certificate!.Subject} (thumbprint {certificate.Thumbprint}, until {certificate.NotAfter.ToUniversalTime():u}) " +
            $"from {options.CertificatePath}; peers must chain to {cas.Count} CA certificate(s) of {options.CaCertificatePath}");
        return new ClusterTlsMaterial(certificate, cas, options.HandshakeTimeout);
    }

    private static ClusterTlsMaterial FromDevelopmentCa(ClusterTlsOptions options, string directory, IPAddress? advertisedAddress, TextWriter notice)
    {
        var ca = DevelopmentCertificateAuthority.LoadOrCreate(directory);
        var addresses = new List<IPAddress> { IPAddress.Loopback, IPAddress.IPv6Loopback };
        if (advertisedAddress is not null && !addresses.Contains(advertisedAddress)) addresses.Add(advertisedAddress);
        // One silo certificate per advertised address, shared by every local silo that advertises it.
        var name = "cluster-silo-" + (advertisedAddress ?? IPAddress.Loopback).ToString().Replace(':', '_');
        var silo = ca.LoadOrIssue(name, ["localhost"], addresses, serverAuth: true, clientAuth: true);
        notice.WriteLine($"KeyProxy cluster TLS: Development mode, local CA {(ca.Created ? "made" : "reused")} in {ca.Directory} " +
            $"({DevelopmentCertificateAuthority.CaCertificateFileName} is what a client trusts); silo certificate {silo.Path} " +
            $"{(silo.Created ? "issued" : "reused")} (development only: configure {ClusterTlsOptions.SectionName}:CertificatePath, PrivateKeyPath and CaCertificatePath for production)");
        return new ClusterTlsMaterial(silo.Certificate, [ca.Certificate], options.HandshakeTimeout);
    }

    private static X509Certificate2Collection ReadCas(string path, List<string> errors)
    {
        var cas = new X509Certificate2Collection();
        try
        {
            cas.ImportFromPemFile(path);
            if (cas.Count == 0) errors.Add($"{ClusterTlsOptions.SectionName}:CaCertificatePath '{path}' holds no PEM certificate");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            errors.Add($"{ClusterTlsOptions.SectionName}:CaCertificatePath '{path}': {e.Message}");
        }

        return cas;
    }

    /// <summary>This silo's certificate must be one its peers accept: valid now, for both roles, chaining to a cluster CA.</summary>
    private static IEnumerable<string> CheckOwn(X509Certificate2 certificate, X509Certificate2Collection cas, string path)
    {
        var validator = new ClusterPeerValidator(cas);
        foreach (var asServer in new[] { true, false })
        {
            var verdict = validator.Validate(certificate, null, peerIsServer: asServer);
            if (!verdict.Trusted)
            {
                yield return $"{ClusterTlsOptions.SectionName}:CertificatePath '{path}' ({certificate.Subject}) would be refused by the cluster's other " +
                    $"silos as a TLS {(asServer ? "server" : "client")}: {verdict.Reason} ({verdict.Detail})";
                yield break;
            }
        }
    }
}
