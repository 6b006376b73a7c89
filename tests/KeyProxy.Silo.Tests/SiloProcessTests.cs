using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;

namespace KeyProxy.Silo.Tests;

/// <summary>The built silo executable, as <c>dotnet run --project src/KeyProxy.Silo</c> starts it.</summary>
public sealed partial class SiloProcessTests
{
    [Fact]
    public async Task The_silo_starts_with_no_configuration_serves_the_demo_subscribers_and_stops_cleanly_on_SIGTERM()
    {
        var environment = new Dictionary<string, string>
        {
            // Free ports instead of the defaults (8080, 11111, 30000), which another silo on this machine may hold.
            ["KeyProxy__HttpUrl"] = KeyProxy.Testing.AdminHttp.Url,
            ["KeyProxy__SiloPort"] = FreePorts.Next().ToString(),
            ["KeyProxy__GatewayPort"] = FreePorts.Next().ToString(),
            ["KeyProxy__Edge__AccessEndpoint"] = "127.0.0.1:0",
        };
        using var process = ProcessRunner.Start(DotnetHost(), [SiloAssembly()], environment, out var stdout, out var stderr);
        try
        {
            var baseUrl = await WaitForReadyLine(process, stdout, stderr);
            using var http = KeyProxy.Testing.AdminHttp.Client(new Uri(baseUrl), TimeSpan.FromSeconds(30));
            var list = await http.GetStringAsync("/api/subscribers", TestContext.Current.CancellationToken);
            Assert.Contains("\"nai\":\"alice@keyproxy.test\"", list);
            Assert.Contains("\"nai\":\"bob@keyproxy.test\"", list);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/dashboard/", TestContext.Current.CancellationToken)).StatusCode);

            ProcessRunner.Terminate(process);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await process.WaitForExitAsync(cts.Token);
            Assert.True(process.ExitCode == 0, $"exit code {process.ExitCode}; stderr: {stderr}");
            Assert.DoesNotContain("keyproxy-demo-secret", stdout.ToString());
            Assert.DoesNotContain("keyproxy-demo-psk", stdout.ToString());
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact]
    public async Task The_tun_packet_path_without_CAP_NET_ADMIN_stops_the_silo_at_start_saying_what_is_missing()
    {
        // setpriv (util-linux) drops CAP_NET_ADMIN from the bounding set, so even root runs the silo without it.
        var (exitCode, _, stderr) = await ProcessRunner.Run("setpriv", ["--bounding-set=-net_admin", "--inh-caps=-net_admin", "--", DotnetHost(), SiloAssembly(),
            $"--KeyProxy:HttpUrl={KeyProxy.Testing.AdminHttp.Url}", $"--KeyProxy:SiloPort={FreePorts.Next()}", $"--KeyProxy:GatewayPort={FreePorts.Next()}",
            "--KeyProxy:Edge:AccessEndpoint=127.0.0.1:0", "--KeyProxy:Edge:PacketPath=Tun", "--KeyProxy:Edge:AddressPool=100.64.251.0/24"],
            TimeSpan.FromSeconds(90));
        Assert.True(exitCode == 1, $"exit code {exitCode}; stderr: {stderr}");
        Assert.Contains("KeyProxy silo could not start its edge: KeyProxy:Edge:PacketPath=Tun needs CAP_NET_ADMIN", stderr);
        Assert.Contains("or use PacketPath=Sockets", stderr);
    }

    [Fact]
    public async Task Invalid_configuration_stops_the_silo_at_start_with_every_problem_listed()
    {
        var (exitCode, _, stderr) = await ProcessRunner.Run(DotnetHost(), [SiloAssembly(), "--KeyProxy:Clustering=Bogus", "--KeyProxy:GatewayPort=11111"],
            TimeSpan.FromSeconds(60));
        Assert.Equal(2, exitCode);
        Assert.Contains("Invalid KeyProxy configuration:", stderr);
        Assert.Contains("KeyProxy:Clustering is 'Bogus'; expected 'Localhost' or 'AzureTable'", stderr);
        Assert.Contains("KeyProxy:SiloPort and KeyProxy:GatewayPort are both 11111", stderr);
    }

    [Fact]
    public async Task Production_mode_on_Azure_storage_without_a_key_for_secrets_at_rest_stops_with_exit_code_2()
    {
        var (exitCode, _, stderr) = await ProcessRunner.Run(DotnetHost(),
            [SiloAssembly(), "--KeyProxy:Mode=Production", "--KeyProxy:Clustering=AzureTable", "--KeyProxy:StorageConnectionString=UseDevelopmentStorage=true"],
            TimeSpan.FromSeconds(60));
        Assert.Equal(2, exitCode);
        Assert.Contains("KeyProxy:SecretsAtRest:ActiveKeyId and KeyProxy:SecretsAtRest:Keys:<id> (or KeyFiles:<id>) are required in Production mode", stderr);
    }

    [Fact]
    public async Task Production_mode_with_secrets_at_rest_switched_off_stops_with_exit_code_2()
    {
        var (exitCode, _, stderr) = await ProcessRunner.Run(DotnetHost(),
            [SiloAssembly(), "--KeyProxy:Mode=Production", "--KeyProxy:Clustering=AzureTable", "--KeyProxy:StorageConnectionString=UseDevelopmentStorage=true",
                "--KeyProxy:SecretsAtRest:Enabled=false"],
            TimeSpan.FromSeconds(60));
        Assert.Equal(2, exitCode);
        Assert.Contains("KeyProxy:SecretsAtRest:Enabled is false, which Production mode refuses", stderr);
    }

    [Fact]
    public async Task Production_mode_without_cluster_TLS_certificates_stops_with_exit_code_2()
    {
        var (exitCode, _, stderr) = await ProcessRunner.Run(DotnetHost(), [SiloAssembly(), "--KeyProxy:Mode=Production"], TimeSpan.FromSeconds(60));
        Assert.Equal(2, exitCode);
        Assert.Contains("KeyProxy:ClusterTls:CertificatePath, KeyProxy:ClusterTls:PrivateKeyPath, KeyProxy:ClusterTls:CaCertificatePath are required in Production mode", stderr);
        // And the admin listener's certificate and token settings (issue 16 items 1, 2 and 5).
        Assert.Contains("KeyProxy:AdminAuth:Issuer, KeyProxy:AdminAuth:Audience, KeyProxy:AdminAuth:SigningKeys are required in Production mode", stderr);
        Assert.Contains("KeyProxy:AdminHttps:CertificatePath, KeyProxy:AdminHttps:PrivateKeyPath are required in Production mode", stderr);
    }

    [Fact]
    public async Task A_silo_without_the_dashboard_does_not_advertise_one_in_its_start_line()
    {
        var environment = new Dictionary<string, string>
        {
            ["KeyProxy__HttpUrl"] = KeyProxy.Testing.AdminHttp.Url,
            ["KeyProxy__SiloPort"] = FreePorts.Next().ToString(),
            ["KeyProxy__GatewayPort"] = FreePorts.Next().ToString(),
            ["KeyProxy__ClusterId"] = "no-dashboard-line",
            ["KeyProxy__EdgeEnabled"] = "false",
            ["KeyProxy__DashboardEnabled"] = "false",
        };
        using var process = ProcessRunner.Start(DotnetHost(), [SiloAssembly()], environment, out var stdout, out var stderr);
        try
        {
            var line = await WaitForLine(process, stdout, stderr, "KeyProxy silo up: ");
            Assert.DoesNotContain("/dashboard", line);
            var api = ApiUrl().Match(line);
            Assert.True(api.Success, line);
            using var http = KeyProxy.Testing.AdminHttp.Client(new Uri(api.Groups["api"].Value), TimeSpan.FromSeconds(30));
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api", TestContext.Current.CancellationToken)).StatusCode);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    private static async Task<string> WaitForLine(Process process, System.Text.StringBuilder stdout, System.Text.StringBuilder stderr, string prefix)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            string text;
            lock (stdout)
            {
                text = stdout.ToString();
            }

            var at = text.IndexOf(prefix, StringComparison.Ordinal);
            var end = at < 0 ? -1 : text.IndexOf('\n', at);
            if (end > 0)
            {
                return text[at..end].TrimEnd('\r');
            }

            Assert.False(process.HasExited, $"the silo exited with {(process.HasExited ? process.ExitCode : 0)}: {stderr}");
            await Task.Delay(100);
        }

        throw new TimeoutException($"no line '{prefix}' within 60 s; stdout: {stdout}; stderr: {stderr}");
    }

    private static async Task<string> WaitForReadyLine(Process process, System.Text.StringBuilder stdout, System.Text.StringBuilder stderr)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            string text;
            lock (stdout)
            {
                text = stdout.ToString();
            }

            var match = ReadyLine().Match(text);
            if (match.Success)
            {
                Assert.Equal(match.Groups["api"].Value, match.Groups["dashboard"].Value);
                return match.Groups["api"].Value;
            }

            Assert.False(process.HasExited, $"the silo exited with {(process.HasExited ? process.ExitCode : 0)}: {stderr}");
            await Task.Delay(100);
        }

        throw new TimeoutException($"no ready line within 60 s; stdout: {stdout}; stderr: {stderr}");
    }

    /// <summary>The dotnet host running these tests (DOTNET_HOST_PATH under dotnet test), else the one on PATH.</summary>
    private static string DotnetHost() => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path && File.Exists(path) ? path : "dotnet";

    /// <summary>KeyProxy.Silo.dll in the silo project's own output, same configuration as this test assembly.</summary>
    private static string SiloAssembly()
    {
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory);
        var dir = testOutput;
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "KeyProxyOrleans.sln")))
        {
            dir = dir.Parent;
        }

        Assert.NotNull(dir);
        var testProject = Path.Combine(dir.FullName, "tests", "KeyProxy.Silo.Tests");
        var relative = Path.GetRelativePath(testProject, testOutput.FullName); // bin/<Configuration>/net10.0
        var assembly = Path.Combine(dir.FullName, "src", "KeyProxy.Silo", relative, "KeyProxy.Silo.dll");
        Assert.True(File.Exists(assembly), $"{assembly} is missing; build src/KeyProxy.Silo");
        return assembly;
    }

    [GeneratedRegex(@"admin API (?<api>https?://\S+)/api")]
    private static partial Regex ApiUrl();

    [GeneratedRegex(@"KeyProxy silo up: dashboard (?<dashboard>https?://\S+)/dashboard, admin API (?<api>https?://\S+)/api")]
    private static partial Regex ReadyLine();
}
