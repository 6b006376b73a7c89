using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace KeyProxy.Silo.Security;

/// <summary>
/// Development mode's local certificate authority (issue 16 item 5: with no configuration the README's run command keeps
/// working): an ECDSA P-256 CA kept in a directory created 0700 (by default the one of the secrets-at-rest development key,
/// ~/.keyproxy/development), made on first use and reused after, so every local silo on the machine trusts the others.
/// It issues end-entity certificates on request: silo certificates for cluster TLS (<see cref="LoadOrIssue"/>), and any
/// other certificate a component needs (an HTTPS certificate for the admin API, an Orleans client's) through
/// <see cref="Issue"/>. Files are PEM, 0600, each written under a temporary name and renamed into place while holding
/// the directory's lock file (<see cref="DirectoryLock"/>), so silos that start together agree on one CA and readers
/// never see half a file. Never for production: Production mode refuses to run
/// without configured certificates.
/// </summary>
public sealed class DevelopmentCertificateAuthority
{
    /// <summary>The CA's certificate and private key (one file, so a reader never sees a certificate without its key).</summary>
    public const string CaKeyFileName = "cluster-ca.key.pem";

    /// <summary>The CA's certificate alone: what a client or an operator's tool is given to trust the local cluster.</summary>
    public const string CaCertificateFileName = "cluster-ca.pem";

    private const string CaSubject = "CN=KeyProxy development CA, O=KeyProxy (development only)";

    private static readonly TimeSpan CaLifetime = TimeSpan.FromDays(3650);

    /// <summary>Issued certificates are renewed when they would expire within this (or no longer chain to this CA).</summary>
    private static readonly TimeSpan RenewBefore = TimeSpan.FromDays(30);

    private readonly X509Certificate2 _ca;

    private DevelopmentCertificateAuthority(string directory, X509Certificate2 ca, bool created)
    {
        Directory = directory;
        _ca = ca;
        Created = created;
    }

    /// <summary>Where the CA and everything it issued are kept.</summary>
    public string Directory { get; }

    /// <summary>True when this call made the CA (the first start on this machine, or after the directory was removed).</summary>
    public bool Created { get; }

    /// <summary>The CA's certificate (public part only): the trust anchor peers are validated against.</summary>
    public X509Certificate2 Certificate => X509CertificateLoader.LoadCertificate(_ca.RawData);

    /// <summary>The path of the CA's certificate alone (<see cref="CaCertificateFileName"/>).</summary>
    public string CertificatePath => Path.Combine(Directory, CaCertificateFileName);

    /// <summary>
    /// The CA in <paramref name="directory"/>, made there when absent. Throws <see cref="SiloConfigurationException"/>
    /// naming the path (never key material) when the directory or a file cannot be used.
    /// </summary>
    public static DevelopmentCertificateAuthority LoadOrCreate(string directory)
    {
        var keyPath = Path.Combine(directory, CaKeyFileName);
        try
        {
            CreatePrivateDirectory(directory);
            var created = false;
            using var exclusive = DirectoryLock.Acquire(directory);
            if (!File.Exists(keyPath))
            {
                using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
                var request = new CertificateRequest(CaSubject, key, HashAlgorithmName.SHA256);
                // RFC 5280 4.2.1.9/4.2.1.3: a CA that signs end-entity certificates only (path length 0).
                request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
                request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
                request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
                var now = DateTimeOffset.UtcNow;
                using var ca = request.CreateSelfSigned(now.AddMinutes(-5), now + CaLifetime);
                created = WriteReplacing(keyPath, ca.ExportCertificatePem() + "\n" + key.ExportPkcs8PrivateKeyPem() + "\n");
            }

            var loaded = X509Certificate2.CreateFromPemFile(keyPath);
            // The public half for clients and tools; rewritten when it differs (the CA was made again).
            var caPem = loaded.ExportCertificatePem() + "\n";
            var caPath = Path.Combine(directory, CaCertificateFileName);
            if (!File.Exists(caPath) || File.ReadAllText(caPath) != caPem) WriteReplacing(caPath, caPem);
            return new DevelopmentCertificateAuthority(directory, loaded, created);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new SiloConfigurationException([
                $"Development mode's certificate authority, {keyPath}: {e.Message} (set {Storage.SecretsAtRestOptions.SectionName}:DevelopmentKeyDirectory " +
                $"to another directory, or configure {ClusterTlsOptions.SectionName}:CertificatePath, PrivateKeyPath and CaCertificatePath)"]);
        }
    }

    /// <summary>What <see cref="LoadOrIssue"/> found or made.</summary>
    public sealed record IssuedCertificate(string Path, X509Certificate2 Certificate, bool Created);

    /// <summary>
    /// The certificate named <paramref name="name"/> in the directory (<c>{name}.pem</c>, certificate and key), issued by
    /// this CA when absent, expiring within 30 days, issued by another CA, or missing a requested name or usage.
    /// </summary>
    public IssuedCertificate LoadOrIssue(string name, IReadOnlyCollection<string> dnsNames, IReadOnlyCollection<IPAddress> addresses,
        bool serverAuth, bool clientAuth, TimeSpan? lifetime = null)
    {
        if (name.Length == 0 || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
            throw new ArgumentException($"'{name}' is not a file name of letters, digits, '-', '_' and '.'", nameof(name));
        var path = Path.Combine(Directory, name + ".pem");
        try
        {
            using var exclusive = DirectoryLock.Acquire(Directory);
            if (File.Exists(path))
            {
                var existing = X509Certificate2.CreateFromPemFile(path);
                if (Fits(existing, dnsNames, addresses, serverAuth, clientAuth)) return new IssuedCertificate(path, existing, false);
                existing.Dispose();
            }

            using var fresh = Issue(name, dnsNames, addresses, serverAuth, clientAuth, lifetime);
            using var key = fresh.GetECDsaPrivateKey()!;
            var pem = fresh.ExportCertificatePem() + "\n" + key.ExportPkcs8PrivateKeyPem() + "\n";
            WriteReplacing(path, pem);
            return new IssuedCertificate(path, X509Certificate2.CreateFromPemFile(path), true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new SiloConfigurationException([$"Development mode's certificate {path}: {e.Message}"]);
        }
    }

    /// <summary>
    /// A new end-entity certificate (ECDSA P-256, with its private key) signed by this CA, written nowhere: subject
    /// <c>CN={commonName}</c>, the given SANs (RFC 5280 4.2.1.6) and extended key usages (RFC 5280 4.2.1.12).
    /// </summary>
    public X509Certificate2 Issue(string commonName, IReadOnlyCollection<string> dnsNames, IReadOnlyCollection<IPAddress> addresses,
        bool serverAuth, bool clientAuth, TimeSpan? lifetime = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={commonName}, O=KeyProxy (development only)"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        var usages = new OidCollection();
        if (serverAuth) usages.Add(new Oid(ServerAuthOid));
        if (clientAuth) usages.Add(new Oid(ClientAuthOid));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(usages, false));
        var san = new SubjectAlternativeNameBuilder();
        foreach (var dns in dnsNames) san.AddDnsName(dns);
        foreach (var address in addresses) san.AddIpAddress(address);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_ca, true, false));

        var now = DateTimeOffset.UtcNow;
        var notAfter = now + (lifetime ?? TimeSpan.FromDays(825));
        if (notAfter > _ca.NotAfter) notAfter = _ca.NotAfter;
        using var caKey = _ca.GetECDsaPrivateKey() ?? throw new CryptographicException("the CA file holds no ECDSA private key");
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F; // RFC 5280 4.1.2.2: a positive integer
        using var signed = request.Create(_ca.SubjectName, X509SignatureGenerator.CreateForECDsa(caKey), now.AddMinutes(-5), notAfter, serial);
        return signed.CopyWithPrivateKey(key);
    }

    public const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";
    public const string ClientAuthOid = "1.3.6.1.5.5.7.3.2";

    private bool Fits(X509Certificate2 certificate, IReadOnlyCollection<string> dnsNames, IReadOnlyCollection<IPAddress> addresses, bool serverAuth, bool clientAuth)
    {
        if (!certificate.HasPrivateKey || certificate.NotAfter.ToUniversalTime() - DateTime.UtcNow < RenewBefore) return false;
        if (!certificate.IssuerName.RawData.AsSpan().SequenceEqual(_ca.SubjectName.RawData)) return false;
        // Signed by this CA's key, not only by a CA of the same name (the directory's CA was made again).
        using (var chain = new X509Chain())
        {
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(_ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            if (!chain.Build(certificate)) return false;
        }

        var san = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().FirstOrDefault();
        var names = san?.EnumerateDnsNames().ToHashSet(StringComparer.OrdinalIgnoreCase) ?? [];
        var ips = san?.EnumerateIPAddresses().ToHashSet() ?? [];
        if (!dnsNames.All(names.Contains) || !addresses.All(ips.Contains)) return false;
        var usages = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().SelectMany(e => e.EnhancedKeyUsages.Cast<Oid>()).Select(o => o.Value).ToHashSet();
        return (!serverAuth || usages.Contains(ServerAuthOid)) && (!clientAuth || usages.Contains(ClientAuthOid));
    }

    private static void CreatePrivateDirectory(string directory)
    {
        if (OperatingSystem.IsWindows()) System.IO.Directory.CreateDirectory(directory);
        else System.IO.Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>Writes <paramref name="path"/> as a 0600 file through a temporary name and a rename (callers hold the directory's lock).</summary>
    internal static bool WriteReplacing(string path, string text)
    {
        File.Move(WriteTemporary(path, text), path, overwrite: true);
        return true;
    }

    private static string WriteTemporary(string path, string text)
    {
        var temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var writer = new StreamWriter(temporary, Encoding.ASCII, options))
        {
            writer.Write(text);
        }

        return temporary;
    }
}
