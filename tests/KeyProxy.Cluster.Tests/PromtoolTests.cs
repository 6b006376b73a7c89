using System.Diagnostics;

namespace KeyProxy.Cluster.Tests;

/// <summary>infra/prometheus as shipped: promtool accepts the scrape config and the alert rules, and the rules' unit tests pass.</summary>
public sealed class PromtoolTests
{
    [Theory]
    [InlineData("check", "config", "prometheus.yml")]
    [InlineData("check", "rules", "alerts.yml")]
    [InlineData("test", "rules", "alerts_test.yml")]
    public async Task Promtool_accepts_the_shipped_files(string command, string kind, string file)
    {
        // The scrape config names the token and CA files an operator puts beside it (issue 16): a copy with stand-ins for them.
        var work = Directory.CreateTempSubdirectory("keyproxy-promtool-").FullName;
        foreach (var shipped in Directory.GetFiles(PrometheusServer.InfraDirectory, "*.yml")) File.Copy(shipped, Path.Combine(work, Path.GetFileName(shipped)));
        await File.WriteAllTextAsync(Path.Combine(work, "keyproxy-read.token"), "stand-in", TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(work, "keyproxy-ca.pem"), "stand-in", TestContext.Current.CancellationToken);
        var info = new ProcessStartInfo("promtool") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = work };
        foreach (var a in new[] { command, kind, file }) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.True(process.ExitCode == 0, $"promtool {command} {kind} {file} exited {process.ExitCode}:\n{await stdout}\n{await stderr}");
        Assert.Contains("SUCCESS", await stdout + await stderr);
    }
}
