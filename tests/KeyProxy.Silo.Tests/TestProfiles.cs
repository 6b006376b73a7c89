using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using KeyProxy.Abstractions;

namespace KeyProxy.Silo.Tests;

/// <summary>Valid profiles and credentials to start tests from.</summary>
internal static class TestProfiles
{
    public static readonly byte[] Secret = Encoding.UTF8.GetBytes("test-subscriber-secret-0001");

    public static SubscriberProfile Valid(string nai = "carol@keyproxy.test") => new()
    {
        Nai = nai,
        Msisdn = "15550001234",
        Secret = Secret,
        ProxyService = true,
        Conditions = [new ProxyCondition("192.0.2.0/24", 17, 500, 4500, ProxyRoles.Initiator, "fqdn:peer.example")],
        IkeIdentity = "fqdn:carol.keyproxy.test",
        PreSharedKeys = [new PeerPsk("192.0.2.0/24", null, Encoding.UTF8.GetBytes("a-sixteen-byte-psk!"))],
    };

    /// <summary>A self-signed ECDSA P-256 certificate and its PKCS#8 key, both PEM.</summary>
    public static (string CertificatePem, string PrivateKeyPem) SelfSigned(string subject = "CN=carol.keyproxy.test")
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        return (certificate.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }
}
