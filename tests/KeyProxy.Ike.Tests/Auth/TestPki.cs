using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace KeyProxy.Ike.Tests.Auth;

/// <summary>
/// Certificates generated once per test run with CertificateRequest, at fixed dates so that tests
/// inject the validation time instead of depending on the clock:
/// RootCa (P-256) issues Intermediate (P-384), EcP256 and Rsa2048; Intermediate issues EcP384.
/// OtherCa (P-256) is an unrelated root.
/// </summary>
internal sealed class TestPki
{
    public static readonly DateTimeOffset CaNotBefore = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
    public static readonly DateTimeOffset CaNotAfter = new(2035, 1, 1, 0, 0, 0, TimeSpan.Zero);
    public static readonly DateTimeOffset EeNotBefore = new(2025, 2, 1, 0, 0, 0, TimeSpan.Zero);
    public static readonly DateTimeOffset EeNotAfter = new(2026, 2, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>ShortLivedCa expires before the end entity it issued does.</summary>
    public static readonly DateTimeOffset ShortCaNotAfter = new(2025, 3, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>A time at which every certificate is valid (except ShortLivedCa).</summary>
    public static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private static readonly Lazy<TestPki> Shared = new(() => new TestPki());
    private static int _serial;

    private TestPki()
    {
        RootCa = CreateCa("CN=KeyProxy Test Root, O=KeyProxy", ECDsa.Create(ECCurve.NamedCurves.nistP256), issuer: null);
        OtherCa = CreateCa("CN=Unrelated Root, O=Elsewhere", ECDsa.Create(ECCurve.NamedCurves.nistP256), issuer: null);
        Intermediate = CreateCa("CN=KeyProxy Intermediate, O=KeyProxy", ECDsa.Create(ECCurve.NamedCurves.nistP384), issuer: RootCa);

        EcP256 = CreateEndEntity(
            "CN=peer256, O=KeyProxy", ECDsa.Create(ECCurve.NamedCurves.nistP256), RootCa,
            dns: "peer256.keyproxy.test", email: "peer256@keyproxy.test", ip: IPAddress.Parse("192.0.2.10"));
        EcP384 = CreateEndEntity(
            "CN=peer384, O=KeyProxy", ECDsa.Create(ECCurve.NamedCurves.nistP384), Intermediate,
            dns: "peer384.keyproxy.test", ip: IPAddress.Parse("2001:db8::384"));
        Rsa2048 = CreateEndEntity("CN=peer-rsa, O=KeyProxy", RSA.Create(2048), RootCa, dns: "rsa.keyproxy.test");
        ShortLivedCa = CreateCa("CN=Short-lived CA, O=KeyProxy", ECDsa.Create(ECCurve.NamedCurves.nistP256), issuer: null, notAfter: ShortCaNotAfter);
        UnderShortLivedCa = CreateEndEntity(
            "CN=orphan, O=KeyProxy", ECDsa.Create(ECCurve.NamedCurves.nistP256), ShortLivedCa, dns: "orphan.keyproxy.test");
        EncipherOnly = CreateEndEntity(
            "CN=encipher-only, O=KeyProxy", ECDsa.Create(ECCurve.NamedCurves.nistP256), RootCa,
            dns: "encipher.keyproxy.test", usage: X509KeyUsageFlags.KeyAgreement);
    }

    public static TestPki Instance => Shared.Value;

    public X509Certificate2 RootCa { get; }
    public X509Certificate2 OtherCa { get; }
    public X509Certificate2 Intermediate { get; }
    public X509Certificate2 EcP256 { get; }
    public X509Certificate2 EcP384 { get; }
    public X509Certificate2 Rsa2048 { get; }
    public X509Certificate2 EncipherOnly { get; }
    public X509Certificate2 ShortLivedCa { get; }
    public X509Certificate2 UnderShortLivedCa { get; }

    /// <summary>The certificate as the peer would see it: DER only, no private key.</summary>
    public static X509Certificate2 PublicOnly(X509Certificate2 certificate) => X509CertificateLoader.LoadCertificate(certificate.RawData);

    private static X509Certificate2 CreateCa(string subject, ECDsa key, X509Certificate2? issuer, DateTimeOffset? notAfter = null)
    {
        var request = new CertificateRequest(subject, key, issuer is null ? HashAlgorithmName.SHA256 : HashAlgorithmName.SHA384);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        if (issuer is null)
        {
            return request.CreateSelfSigned(CaNotBefore, notAfter ?? CaNotAfter);
        }

        using var issued = request.Create(issuer, CaNotBefore, CaNotAfter, NextSerial());
        return issued.CopyWithPrivateKey(key);
    }

    private static X509Certificate2 CreateEndEntity(
        string subject, AsymmetricAlgorithm key, X509Certificate2 issuer,
        string dns, string? email = null, IPAddress? ip = null,
        X509KeyUsageFlags usage = X509KeyUsageFlags.DigitalSignature)
    {
        var request = key switch
        {
            ECDsa ec => new CertificateRequest(subject, ec, HashAlgorithmName.SHA256),
            RSA rsa => new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
            _ => throw new ArgumentException("key"),
        };
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(usage, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(dns);
        if (email is not null)
        {
            san.AddEmailAddress(email);
        }

        if (ip is not null)
        {
            san.AddIpAddress(ip);
        }

        request.CertificateExtensions.Add(san.Build());

        // Every issuer here is ECDSA; the generator overload lets it sign RSA requests too.
        using var issuerKey = issuer.GetECDsaPrivateKey()!;
        using var issued = request.Create(issuer.SubjectName, X509SignatureGenerator.CreateForECDsa(issuerKey), EeNotBefore, EeNotAfter, NextSerial());
        if ((usage & X509KeyUsageFlags.DigitalSignature) == 0)
        {
            // .NET will not pair an ECDSA key with a certificate whose keyUsage forbids signing; the
            // tests only need the public certificate then.
            return X509CertificateLoader.LoadCertificate(issued.RawData);
        }

        return key switch
        {
            ECDsa ec => issued.CopyWithPrivateKey(ec),
            _ => issued.CopyWithPrivateKey((RSA)key),
        };
    }

    private static byte[] NextSerial()
    {
        var serial = new byte[8];
        RandomNumberGenerator.Fill(serial);
        serial[0] = (byte)((serial[0] & 0x7f) | 0x01);
        serial[^1] = (byte)Interlocked.Increment(ref _serial);
        return serial;
    }
}
