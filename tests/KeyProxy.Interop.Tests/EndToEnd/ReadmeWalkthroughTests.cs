using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using KeyProxy.Interop.Tests.Fixtures;

namespace KeyProxy.Interop.Tests.EndToEnd;

/// <summary>
/// The README's "Try a proxied exchange" as a new user runs it, as processes: the charon script,
/// the built silo with the demo subscribers, and the keyproxy-handset CLI. Only ports and the
/// address pool differ, so a silo the user runs on the defaults is not disturbed.
/// </summary>
public sealed class ReadmeWalkthroughTests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Handset_cli_gets_an_sa_with_charon_through_the_silo_as_the_readme_says()
    {
        var root = RepositoryRoot();
        var script = Path.Combine(root, "infra", "strongswan", "charon-peer.sh");
        var peerDir = Path.Combine(Path.GetTempPath(), $"keyproxy-readme-peer-{Environment.ProcessId}");
        using var charonPorts = PortAllocator.AllocateBlock(2);
        using var accessPort = PortAllocator.Allocate();
        var (code, text) = await RunAsync("bash", [script, "start", peerDir, "--port", charonPorts[0].ToString(), "--psk", "keyproxy-demo-psk"], TimeSpan.FromSeconds(30));
        Assert.True(code == 0, text);
        Process? silo = null;
        try
        {
            var siloOutput = new StringBuilder();
            silo = Start("dotnet", [Path.Combine(AppContext.BaseDirectory, "KeyProxy.Silo.dll")], new Dictionary<string, string>
            {
                ["KeyProxy__Network__PeerIkePort"] = charonPorts[0].ToString(),
                ["KeyProxy__Network__PeerNatTPort"] = charonPorts[1].ToString(),
                ["KeyProxy__HttpUrl"] = KeyProxy.Testing.AdminHttp.Url,
                ["KeyProxy__SiloPort"] = KeyProxy.Testing.FreeTcpPorts.Next().ToString(),
                ["KeyProxy__GatewayPort"] = KeyProxy.Testing.FreeTcpPorts.Next().ToString(),
                ["KeyProxy__Edge__AccessEndpoint"] = $"127.0.0.1:{accessPort[0]}",
                ["KeyProxy__Edge__AddressPool"] = "127.0.71.0/24",
            }, siloOutput);
            // The output handlers append on the process's reader threads: read under the same lock.
            string SiloText() { lock (siloOutput) return siloOutput.ToString(); }
            await WaitForAsync(() => SiloText().Contains("KeyProxy silo up: "), TimeSpan.FromSeconds(60), SiloText);

            // README "Run": the admin API with curl, the token and CA from the files the start names (issue 16).
            var started = SiloText();
            var access = System.Text.RegularExpressions.Regex.Match(started, @"KeyProxy admin access: token (?<token>\S+), CA (?<ca>\S+) ");
            var api = System.Text.RegularExpressions.Regex.Match(started, @"admin API (?<api>https://\S+)/api");
            Assert.True(access.Success && api.Success, started);
            (code, text) = await RunAsync("bash", ["-c", $"curl -fsS --cacert {access.Groups["ca"].Value} -H \"Authorization: Bearer $(cat {access.Groups["token"].Value})\" " +
                $"{api.Groups["api"].Value}/api/subscribers/alice@keyproxy.test"], TimeSpan.FromSeconds(30));
            Assert.True(code == 0, text);
            Assert.Contains("\"nai\":\"alice@keyproxy.test\"", text);

            (code, text) = await RunAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, "keyproxy-handset.dll"), "--edge", $"127.0.0.1:{accessPort[0]}",
                "--nai", "alice@keyproxy.test", "--secret", "keyproxy-demo-secret-alice", "--protect", "127.0.0.1/32", "--to", "127.0.0.1:7",
                "--count", "3", "--interval-ms", "300", "--seconds", "1"], TimeSpan.FromSeconds(90));
            output.WriteLine(text);
            Assert.True(code == 0, text);
            Assert.Contains("Attached { TunnelId = ", text);
            Assert.Contains("SaInstalled { InboundSpi = ", text);
            Assert.Contains("counters: sent 3,", text);
            Assert.Contains("Detached { Acknowledged = True }", text);

            // charon agreed the same CHILD_SA with the handset's address (127.0.71.x) as its peer.
            var log = File.ReadAllText(Path.Combine(peerDir, "charon.log"));
            Assert.Matches(@"CHILD_SA child\{\d+\} established with SPIs .* 127\.0\.0\.1/32 === 127\.0\.71\.\d+/32", log);
        }
        finally
        {
            if (silo is not null)
            {
                if (!silo.HasExited) silo.Kill(entireProcessTree: true);
                silo.Dispose();
            }
            await RunAsync("bash", [script, "stop", peerDir], TimeSpan.FromSeconds(30));
            try { Directory.Delete(peerDir, recursive: true); } catch (IOException) { }
        }
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "KeyProxyOrleans.sln"))) return dir.FullName;
        throw new InvalidOperationException("cannot find the repository root above " + AppContext.BaseDirectory);
    }

    private static Process Start(string file, IEnumerable<string> args, IDictionary<string, string> environment, StringBuilder output)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in environment) psi.Environment[k] = v;
        var p = new Process { StartInfo = psi };
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    private static async Task<(int Code, string Output)> RunAsync(string file, IEnumerable<string> args, TimeSpan timeout)
    {
        var output = new StringBuilder();
        using var p = Start(file, args, new Dictionary<string, string>(), output);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(timeout);
        try { await p.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in {timeout}:\n{output}");
        }
        p.WaitForExit();
        lock (output) return (p.ExitCode, output.ToString());
    }

    private static async Task WaitForAsync(Func<bool> condition, TimeSpan timeout, Func<string> describe)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the silo did not come up:\n" + describe());
            await Task.Delay(100, Ct);
        }
    }
}
