using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using KeyProxy.Silo.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Connections.Security;

namespace KeyProxy.Silo.Tests;

/// <summary>
/// Cluster TLS (issue 16 items 3, 5, 6): Development mode's local CA, the peer validator, the start-up checks, and the
/// client gateway of a real silo over real sockets refusing a plaintext client, a client of another CA and a client
/// without a certificate, while serving a client of the cluster CA.
/// </summary>
public sealed partial class ClusterTlsTests
{
    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task The_development_CA_is_made_once_in_private_files_and_shared_by_silos_starting_together()
    {
        var directory = Path.Combine(Path.GetTempPath(), "keyproxy-ca-" + Guid.NewGuid().ToString("N"), "development");
        try
        {
            // Eight silos starting at once agree on one CA and one silo certificate.
            var cas = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => DevelopmentCertificateAuthority.LoadOrCreate(directory))));
            Assert.Single(cas.Select(c => c.Certificate.Thumbprint).Distinct());
            Assert.Equal(1, cas.Count(c => c.Created));
            var silos = await Task.WhenAll(cas.Select(ca => Task.Run(() =>
                ca.LoadOrIssue("cluster-silo-127.0.0.1", ["localhost"], [IPAddress.Loopback], serverAuth: true, clientAuth: true))));
            Assert.Single(silos.Select(s => s.Certificate.Thumbprint).Distinct());
            Assert.Equal(1, silos.Count(s => s.Created));

            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(directory));
            foreach (var file in Directory.GetFiles(directory))
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            }

            Assert.Equal(
                new[] { ".lock", DevelopmentCertificateAuthority.CaCertificateFileName, DevelopmentCertificateAuthority.CaKeyFileName, "cluster-silo-127.0.0.1.pem" }.Order(StringComparer.Ordinal),
                Directory.GetFiles(directory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
            Assert.DoesNotContain("PRIVATE KEY", File.ReadAllText(Path.Combine(directory, DevelopmentCertificateAuthority.CaCertificateFileName)));

            // Reused across runs: a later start reads the same CA and certificate.
            var again = DevelopmentCertificateAuthority.LoadOrCreate(directory);
            Assert.False(again.Created);
            Assert.Equal(cas[0].Certificate.Thumbprint, again.Certificate.Thumbprint);
            var silo = again.LoadOrIssue("cluster-silo-127.0.0.1", ["localhost"], [IPAddress.Loopback], serverAuth: true, clientAuth: true);
            Assert.False(silo.Created);
            Assert.Equal(silos[0].Certificate.Thumbprint, silo.Certificate.Thumbprint);

            // ECDSA P-256, the SANs asked for, both TLS roles; a new address gets a certificate naming it.
            Assert.Equal(256, silo.Certificate.GetECDsaPublicKey()!.KeySize);
            var san = silo.Certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
            Assert.Equal(["localhost"], san.EnumerateDnsNames());
            Assert.Equal([IPAddress.Loopback], san.EnumerateIPAddresses());
            var other = again.LoadOrIssue("cluster-silo-10.1.2.3", ["localhost"], [IPAddress.Loopback, IPAddress.Parse("10.1.2.3")], true, true);
            Assert.True(other.Created);
            Assert.Contains(IPAddress.Parse("10.1.2.3"), other.Certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateIPAddresses());
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(directory)!, recursive: true);
        }
    }

    [Fact]
    public void The_validator_trusts_only_certificates_of_the_cluster_CA_for_the_peer_role()
    {
        using var dir = new TempDirectory();
        var ca = DevelopmentCertificateAuthority.LoadOrCreate(dir.Sub("cluster"));
        var otherCa = DevelopmentCertificateAuthority.LoadOrCreate(dir.Sub("other"));
        var validator = new ClusterPeerValidator([ca.Certificate]);

        using var silo = ca.Issue("silo", ["localhost"], [IPAddress.Loopback], serverAuth: true, clientAuth: true);
        Assert.True(validator.Validate(silo, null, peerIsServer: true).Trusted);
        Assert.True(validator.Validate(silo, null, peerIsServer: false).Trusted);

        // A self-signed certificate (not from the cluster CA), and one of another CA with the same kind of name.
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=KeyProxy development CA, O=KeyProxy (development only)", key, HashAlgorithmName.SHA256);
        using var selfSigned = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        Assert.Equal(PeerVerdict.Untrusted, validator.Validate(selfSigned, null, true).Reason);
        using var foreign = otherCa.Issue("silo", ["localhost"], [IPAddress.Loopback], true, true);
        Assert.Equal(PeerVerdict.Untrusted, validator.Validate(foreign, null, true).Reason);

        // Expired (validated after its end), and a server-only certificate presented by a client (RFC 5280 4.2.1.12).
        using var shortLived = ca.Issue("silo", ["localhost"], [IPAddress.Loopback], true, true, TimeSpan.FromDays(1));
        Assert.Equal(PeerVerdict.Expired, validator.Validate(shortLived, null, true, DateTime.Now.AddDays(2)).Reason);
        using var serverOnly = ca.Issue("server-only", ["localhost"], [], serverAuth: true, clientAuth: false);
        Assert.True(validator.Validate(serverOnly, null, peerIsServer: true).Trusted);
        Assert.Equal(PeerVerdict.WrongUsage, validator.Validate(serverOnly, null, peerIsServer: false).Reason);
    }

    [Fact]
    public void Production_mode_without_certificates_or_with_TLS_off_is_refused_naming_the_settings()
    {
        var missing = Assert.Throws<SiloConfigurationException>(() => KeyProxySiloHost.Build(["--KeyProxy:Mode=Production"]));
        Assert.Contains(missing.Errors, e => e.StartsWith(
            "KeyProxy:ClusterTls:CertificatePath, KeyProxy:ClusterTls:PrivateKeyPath, KeyProxy:ClusterTls:CaCertificatePath are required in Production mode", StringComparison.Ordinal));

        var off = Assert.Throws<SiloConfigurationException>(() => KeyProxySiloHost.Build(["--KeyProxy:Mode=Production", "--KeyProxy:ClusterTls:Enabled=false"]));
        Assert.Contains(off.Errors, e => e.StartsWith("KeyProxy:ClusterTls:Enabled=false is refused in Production mode", StringComparison.Ordinal));

        var partial = Assert.Throws<SiloConfigurationException>(() => KeyProxySiloHost.Build(["--KeyProxy:ClusterTls:CertificatePath=/tmp/silo.pem"]));
        Assert.Contains(partial.Errors, e => e.StartsWith("KeyProxy:ClusterTls:PrivateKeyPath, KeyProxy:ClusterTls:CaCertificatePath are missing", StringComparison.Ordinal));
    }

    [Fact]
    public void A_configured_certificate_the_configured_CA_did_not_issue_stops_the_silo_at_start()
    {
        using var dir = new TempDirectory();
        var ca = DevelopmentCertificateAuthority.LoadOrCreate(dir.Sub("cluster"));
        var otherCa = DevelopmentCertificateAuthority.LoadOrCreate(dir.Sub("other"));
        var foreign = otherCa.LoadOrIssue("silo", ["localhost"], [IPAddress.Loopback], true, true);
        var e = Assert.Throws<SiloConfigurationException>(() => KeyProxySiloHost.Build(
        [
            "--KeyProxy:Mode=Production", $"--KeyProxy:ClusterTls:CertificatePath={foreign.Path}", $"--KeyProxy:ClusterTls:PrivateKeyPath={foreign.Path}",
            $"--KeyProxy:ClusterTls:CaCertificatePath={ca.CertificatePath}", .. KeyProxy.Testing.AdminHttp.ProductionArguments(dir.Sub("cluster")),
        ]));
        var error = Assert.Single(e.Errors);
        Assert.StartsWith($"KeyProxy:ClusterTls:CertificatePath '{foreign.Path}' (CN=silo, O=KeyProxy (development only)) would be refused by the cluster's other silos as a TLS server: untrusted", error);
        Assert.DoesNotContain("PRIVATE KEY", error);

        var unreadable = Assert.Throws<SiloConfigurationException>(() => KeyProxySiloHost.Build(
        [
            "--KeyProxy:Mode=Production", $"--KeyProxy:ClusterTls:CertificatePath={dir.Sub("none")}.pem", $"--KeyProxy:ClusterTls:PrivateKeyPath={foreign.Path}",
            $"--KeyProxy:ClusterTls:CaCertificatePath={ca.CertificatePath}", .. KeyProxy.Testing.AdminHttp.ProductionArguments(dir.Sub("cluster")),
        ]));
        Assert.Contains(unreadable.Errors, m => m.StartsWith($"KeyProxy:ClusterTls:CertificatePath '{dir.Sub("none")}.pem'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_gateway_refuses_plaintext_foreign_and_certificate_less_clients_and_serves_a_client_of_the_cluster_CA()
    {
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory();
        var ca = DevelopmentCertificateAuthority.LoadOrCreate(dir.Sub("cluster"));
        var otherCa = DevelopmentCertificateAuthority.LoadOrCreate(dir.Sub("other"));
        // Certificates from configuration (PEM files), as an operator gives them in Production mode.
        var siloCert = ca.LoadOrIssue("silo", ["localhost"], [IPAddress.Loopback], true, true);
        int gatewayPort = FreePorts.Next();
        var logs = new CapturedLogs();
        var app = KeyProxySiloHost.Build(
        [
            "--KeyProxy:Mode=Production", $"--KeyProxy:HttpUrl={KeyProxy.Testing.AdminHttp.Url}", $"--KeyProxy:SiloPort={FreePorts.Next()}",
            $"--KeyProxy:GatewayPort={gatewayPort}", "--KeyProxy:ClusterId=tls-gateway", "--KeyProxy:EdgeEnabled=false",
            "--KeyProxy:DashboardEnabled=false", "--KeyProxy:DemoSubscribers=false",
            $"--KeyProxy:ClusterTls:CertificatePath={siloCert.Path}", $"--KeyProxy:ClusterTls:PrivateKeyPath={siloCert.Path}",
            $"--KeyProxy:ClusterTls:CaCertificatePath={ca.CertificatePath}", "--Logging:LogLevel:Default=Warning",
            .. KeyProxy.Testing.AdminHttp.ProductionArguments(dir.Sub("cluster")),
        ], builder => builder.Logging.AddProvider(logs));
        await app.StartAsync(ct);
        try
        {
            using var http = KeyProxy.Testing.AdminHttp.Client(new Uri(KeyProxySiloHost.BaseUrl(app)), directory: dir.Sub("cluster"));
            var before = await RefusalsAsync(http, ct);
            var trustCluster = new ClusterPeerValidator([ca.Certificate]);

            // (b) A plaintext Orleans client: its connection dies in the silo's TLS handshake.
            var plaintext = await Assert.ThrowsAnyAsync<Exception>(() => ConnectAsync(gatewayPort, tls: null, ct));
            Assert.IsNotType<OperationCanceledException>(plaintext);

            // A TLS client with a certificate of another CA, and one without any certificate.
            using var foreignCert = otherCa.Issue("client", [], [], serverAuth: false, clientAuth: true);
            await Assert.ThrowsAnyAsync<Exception>(() => ConnectAsync(gatewayPort, c => c.UseTls(foreignCert, o => Trusting(o, trustCluster)), ct));
            await Assert.ThrowsAnyAsync<Exception>(() => ConnectAsync(gatewayPort, c => c.UseTls(o =>
            {
                o.ClientCertificateMode = RemoteCertificateMode.AllowCertificate;
                Trusting(o, trustCluster);
            }), ct));

            // A client of the cluster CA connects and calls a grain through the gateway.
            using var clientCert = ca.Issue("client", [], [], serverAuth: false, clientAuth: true);
            using (var client = await ConnectAsync(gatewayPort, c => c.UseTls(clientCert, o => Trusting(o, trustCluster)), ct))
            {
                var management = client.Services.GetRequiredService<IClusterClient>().GetGrain<IManagementGrain>(0);
#pragma warning disable xUnit1051 // the analyzer sees Orleans' generated overload; the grain interface takes no token
                var hosts = await management.GetHosts(onlyActive: true).WaitAsync(ct);
#pragma warning restore xUnit1051
                Assert.Single(hosts);
                await client.StopAsync(ct);
            }

            // Counted and logged: the foreign certificate as untrusted, the plaintext and certificate-less clients as failed handshakes.
            var after = await WaitForRefusalsAsync(http, r => Delta(r, before, "untrusted") >= 1 && Delta(r, before, "handshake_failed") >= 2, ct);
            Assert.True(Delta(after, before, "untrusted") >= 1, Describe(after, before));
            Assert.True(Delta(after, before, "handshake_failed") >= 2, Describe(after, before));
            var refused = logs.Records.Where(r => r.Category == typeof(ClusterTlsSetup).FullName).Select(r => r.Message).ToList();
            Assert.Contains(refused, m => m.Contains("Cluster TLS refused the inbound connection with 127.0.0.1:", StringComparison.Ordinal)
                && m.Contains($"untrusted, certificate subject 'CN=client, O=KeyProxy (development only)', issuer '{otherCa.Certificate.Subject}', thumbprint {foreignCert.Thumbprint}", StringComparison.Ordinal));
            Assert.Contains(refused, m => m.StartsWith("Cluster TLS refused the inbound connection from 127.0.0.1:", StringComparison.Ordinal));
            Assert.DoesNotContain(logs.Records, r => r.Message.Contains("PRIVATE KEY", StringComparison.Ordinal));
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
        }
    }

    /// <summary>
    /// KeyProxy:ClusterTls:Enabled=false (Development only; load/measure-cluster-security.sh measures TLS's cost with it):
    /// the gateway then speaks plaintext, and a plaintext client is served.
    /// </summary>
    [Fact]
    public async Task With_cluster_TLS_off_the_gateway_serves_a_plaintext_client()
    {
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory();
        int gatewayPort = FreePorts.Next();
        var app = KeyProxySiloHost.Build(
        [
            $"--KeyProxy:HttpUrl={KeyProxy.Testing.AdminHttp.Url}", $"--KeyProxy:SiloPort={FreePorts.Next()}", $"--KeyProxy:GatewayPort={gatewayPort}",
            "--KeyProxy:ClusterId=tls-gateway", "--KeyProxy:EdgeEnabled=false", "--KeyProxy:DashboardEnabled=false", "--KeyProxy:DemoSubscribers=false",
            "--KeyProxy:ClusterTls:Enabled=false", $"--KeyProxy:SecretsAtRest:DevelopmentKeyDirectory={dir.Sub("dev")}", "--Logging:LogLevel:Default=Warning",
        ]);
        await app.StartAsync(ct);
        try
        {
            using var client = await ConnectAsync(gatewayPort, tls: null, ct);
            var management = client.Services.GetRequiredService<IClusterClient>().GetGrain<IManagementGrain>(0);
#pragma warning disable xUnit1051 // the analyzer sees Orleans' generated overload; the grain interface takes no token
            Assert.Single(await management.GetHosts(onlyActive: true).WaitAsync(ct));
#pragma warning restore xUnit1051
            await client.StopAsync(ct);
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
        }
    }

    private static void Trusting(TlsOptions options, ClusterPeerValidator validator)
    {
        options.SslProtocols = System.Security.Authentication.SslProtocols.Tls13;
        options.RemoteCertificateValidation = (certificate, chain, _) => validator.Validate(certificate, chain, peerIsServer: true).Trusted;
    }

    /// <summary>An Orleans client host connected to the gateway (StartAsync connects; no retries, so a refusal throws).</summary>
    private static async Task<IHost> ConnectAsync(int gatewayPort, Action<IClientBuilder>? tls, CancellationToken ct)
    {
        var host = new HostBuilder()
            .UseOrleansClient(c =>
            {
                c.UseStaticClustering(new IPEndPoint(IPAddress.Loopback, gatewayPort));
                c.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = ("tls-gateway", "keyproxy"));
                tls?.Invoke(c);
            })
            .ConfigureLogging(l => l.SetMinimumLevel(LogLevel.Critical))
            .Build();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            await host.StartAsync(timeout.Token);
            return host;
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    private static async Task<Dictionary<string, double>> RefusalsAsync(HttpClient http, CancellationToken ct)
    {
        var text = await http.GetStringAsync("/metrics", ct);
        return RefusalLine().Matches(text).Where(m => m.Groups["direction"].Value == "inbound")
            .GroupBy(m => m.Groups["reason"].Value).ToDictionary(g => g.Key, g => g.Sum(m => double.Parse(m.Groups["n"].Value, System.Globalization.CultureInfo.InvariantCulture)));
    }

    private static async Task<Dictionary<string, double>> WaitForRefusalsAsync(HttpClient http, Func<Dictionary<string, double>, bool> done, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var now = await RefusalsAsync(http, ct);
            if (done(now) || DateTime.UtcNow > deadline) return now;
            await Task.Delay(200, ct);
        }
    }

    private static double Delta(Dictionary<string, double> after, Dictionary<string, double> before, string reason) =>
        after.GetValueOrDefault(reason) - before.GetValueOrDefault(reason);

    private static string Describe(Dictionary<string, double> after, Dictionary<string, double> before) =>
        $"refusals before: {string.Join(", ", before.Select(p => $"{p.Key}={p.Value}"))}; after: {string.Join(", ", after.Select(p => $"{p.Key}={p.Value}"))}";

    [GeneratedRegex("""^keyproxy_cluster_tls_refusals_total\{(?=[^}]*keyproxy_tls_direction="(?<direction>\w+)")(?=[^}]*keyproxy_tls_reason="(?<reason>\w+)")[^}]*\} (?<n>[0-9.e+]+)""", RegexOptions.Multiline)]
    private static partial Regex RefusalLine();

    private sealed class TempDirectory : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "keyproxy-tls-" + Guid.NewGuid().ToString("N"));

        public string Sub(string name) => System.IO.Path.Combine(Path, name);

        public void Dispose()
        {
            if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
        }
    }
}
