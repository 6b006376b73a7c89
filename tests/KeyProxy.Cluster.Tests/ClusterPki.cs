using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using KeyProxy.Silo.Security;

namespace KeyProxy.Cluster.Tests;

/// <summary>
/// Certificates for silos given by configuration, as an operator gives them in Production mode (issue 16 item 3): a CA
/// of this test run (made with the project's own CA class, in a directory of its own, not the machine's development
/// one) and a silo certificate it issued, as PEM files; and a self-signed certificate no cluster trusts.
/// </summary>
internal static class ClusterPki
{
    /// <summary>This run's CA directory (also where Production silos' admin certificate and token come from, <see cref="KeyProxy.Testing.AdminHttp.ProductionSettings"/>).</summary>
    public static string Directory { get; } = Path.Combine(Path.GetTempPath(), $"keyproxy-cluster-pki-{Environment.ProcessId}");

    private static readonly Lazy<(string Ca, string Silo)> Files = new(() =>
    {
        var ca = DevelopmentCertificateAuthority.LoadOrCreate(Directory);
        var silo = ca.LoadOrIssue("silo", ["localhost"], [IPAddress.Loopback], serverAuth: true, clientAuth: true);
        return (ca.CertificatePath, silo.Path);
    });

    /// <summary>The environment settings of a silo with this run's CA and silo certificate.</summary>
    public static Dictionary<string, string> Settings() => With(Files.Value.Silo, Files.Value.Ca);

    /// <summary>
    /// A silo certificate that is its own CA (self-signed, ECDSA P-256, both TLS usages): the silo starts (it trusts
    /// itself) but no silo of the cluster does.
    /// </summary>
    public static Dictionary<string, string> SelfSignedSettings()
    {
        var path = Path.Combine(Path.GetTempPath(), $"keyproxy-self-signed-{Guid.NewGuid():N}.pem");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=rogue silo", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid(DevelopmentCertificateAuthority.ServerAuthOid), new Oid(DevelopmentCertificateAuthority.ClientAuthOid)], false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(30));
        File.WriteAllText(path, certificate.ExportCertificatePem() + "\n" + key.ExportPkcs8PrivateKeyPem() + "\n");
        return With(path, path);
    }

    private static Dictionary<string, string> With(string siloPem, string caPem) => new()
    {
        ["KeyProxy__ClusterTls__CertificatePath"] = siloPem,
        ["KeyProxy__ClusterTls__PrivateKeyPath"] = siloPem,
        ["KeyProxy__ClusterTls__CaCertificatePath"] = caPem,
    };
}
