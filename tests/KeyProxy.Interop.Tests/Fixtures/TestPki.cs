using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace KeyProxy.Interop.Tests.Fixtures;

public enum TestKeyType
{
    EcdsaP256,
    Rsa2048,
}

/// <summary>
/// A throw-away certificate authority for interop tests: a self-signed CA and end-entity
/// certificates it issues, made with <see cref="CertificateRequest"/>. Share one instance between
/// a charon peer and our engine so both trust the same CA.
/// </summary>
public sealed class TestPki : IDisposable
{
    private long _serial = 1;

    private TestPki(TestCredential ca) => Ca = ca;

    /// <summary>The CA: its certificate (with private key) and PEM forms.</summary>
    public TestCredential Ca { get; }

    public X509Certificate2 CaCertificate => Ca.Certificate;

    public static TestPki Create(TestKeyType caKeyType = TestKeyType.EcdsaP256, string caSubject = "CN=KeyProxy Test CA, O=KeyProxy")
    {
        var key = NewKey(caKeyType);
        var name = new X500DistinguishedName(caSubject);
        var request = NewRequest(name, key);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        var ski = new X509SubjectKeyIdentifierExtension(request.PublicKey, false);
        request.CertificateExtensions.Add(ski);
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromSubjectKeyIdentifier(ski));
        var now = DateTimeOffset.UtcNow;
        var cert = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(2));
        return new TestPki(new TestCredential(cert, key, caKeyType, caSubject));
    }

    /// <summary>
    /// Issues an end-entity certificate for <paramref name="identity"/>: an FQDN (goes into a
    /// dNSName SAN and the CN), an email address (rfc822Name SAN) or an IP address (iPAddress SAN).
    /// The IKE identity to configure is the same string.
    /// </summary>
    public TestCredential Issue(string identity, TestKeyType keyType = TestKeyType.EcdsaP256)
    {
        var key = NewKey(keyType);
        var subject = new X500DistinguishedName($"CN={identity}, O=KeyProxy");
        var request = NewRequest(subject, key);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, false));
        var san = new SubjectAlternativeNameBuilder();
        if (System.Net.IPAddress.TryParse(identity, out var ip)) san.AddIpAddress(ip);
        else if (identity.Contains('@')) san.AddEmailAddress(identity);
        else san.AddDnsName(identity);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Ca.Certificate, true, false));
        var now = DateTimeOffset.UtcNow;
        var serial = new BigInteger(Interlocked.Increment(ref _serial) + 1000).ToByteArray(isUnsigned: true, isBigEndian: true);
        var signer = Ca.PrivateKey switch
        {
            ECDsa ec => X509SignatureGenerator.CreateForECDsa(ec),
            RSA rsa => X509SignatureGenerator.CreateForRSA(rsa, RSASignaturePadding.Pkcs1),
            _ => throw new NotSupportedException(),
        };
        using var issued = request.Create(Ca.Certificate.SubjectName, signer, now.AddDays(-1), now.AddYears(1), serial);
        var withKey = key switch
        {
            ECDsa ec => issued.CopyWithPrivateKey(ec),
            RSA rsa => issued.CopyWithPrivateKey(rsa),
            _ => throw new NotSupportedException(),
        };
        return new TestCredential(withKey, key, keyType, identity);
    }

    private static AsymmetricAlgorithm NewKey(TestKeyType type) => type switch
    {
        TestKeyType.EcdsaP256 => ECDsa.Create(ECCurve.NamedCurves.nistP256),
        TestKeyType.Rsa2048 => RSA.Create(2048),
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    private static CertificateRequest NewRequest(X500DistinguishedName name, AsymmetricAlgorithm key) => key switch
    {
        ECDsa ec => new CertificateRequest(name, ec, HashAlgorithmName.SHA256),
        RSA rsa => new CertificateRequest(name, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
        _ => throw new NotSupportedException(),
    };

    public void Dispose() => Ca.Dispose();
}

/// <summary>A certificate with its private key, and their PEM forms.</summary>
public sealed class TestCredential : IDisposable
{
    internal TestCredential(X509Certificate2 certificate, AsymmetricAlgorithm privateKey, TestKeyType keyType, string identity)
    {
        Certificate = certificate;
        PrivateKey = privateKey;
        KeyType = keyType;
        Identity = identity;
    }

    /// <summary>The certificate; <see cref="X509Certificate2.HasPrivateKey"/> is true.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>An <see cref="ECDsa"/> or an <see cref="RSA"/>.</summary>
    public AsymmetricAlgorithm PrivateKey { get; }

    public TestKeyType KeyType { get; }

    /// <summary>The identity the certificate was issued for (SAN), usable as IKE ID.</summary>
    public string Identity { get; }

    public string CertificatePem => Certificate.ExportCertificatePem();

    /// <summary>PKCS#8 "PRIVATE KEY" PEM (swanctl loads it from its <c>private/</c> directory).</summary>
    public string PrivateKeyPem => PrivateKey switch
    {
        ECDsa ec => ec.ExportPkcs8PrivateKeyPem(),
        RSA rsa => rsa.ExportPkcs8PrivateKeyPem(),
        _ => throw new NotSupportedException(),
    };

    public void Dispose()
    {
        Certificate.Dispose();
        PrivateKey.Dispose();
    }
}
