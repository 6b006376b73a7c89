using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace KeyProxy.Benchmarks;

/// <summary>Runs `openssl speed` and reads its op/s table and its op counts.</summary>
internal static partial class OpenSslSpeed
{
    /// <summary>One row: algorithm as openssl names it (nistp256, X25519, ffdh2048), ops/s, and the op count of the run.</summary>
    public sealed record Result(string Algorithm, double OpsPerSecond, long Operations, double Seconds);

    public static async Task<(IReadOnlyList<Result> Results, string? Version, string? Error)> RunAsync(int seconds, params string[] algorithms)
    {
        var start = new ProcessStartInfo("openssl")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("speed");
        start.ArgumentList.Add("-seconds");
        start.ArgumentList.Add(seconds.ToString(CultureInfo.InvariantCulture));
        foreach (var algorithm in algorithms)
        {
            start.ArgumentList.Add(algorithm);
        }

        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return ([], null, $"cannot run openssl: {e.Message}");
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            var (results, version) = Parse(await stdout, await stderr);
            return (results, version, process.ExitCode == 0 ? null : $"openssl speed exited with {process.ExitCode}");
        }
    }

    /// <summary>
    /// stdout has the table (" 256 bits ecdh (nistp256)   0.0000s  32208.1", "2048 bits ffdh   0.0002s   4830.0");
    /// stderr has the counts ("Doing 2048 bits  ffdh's for 2s: 9660 2048-bits FFDH ops in 2.00s").
    /// </summary>
    internal static (List<Result> Results, string? Version) Parse(string stdout, string stderr)
    {
        var results = new List<Result>();
        var counts = new Dictionary<string, (long Count, double Seconds)>();
        foreach (Match m in CountLine().Matches(stderr))
        {
            // key: "<bits> ECDH" or "<bits> FFDH"; ECDH rows appear in table order, so keep a queue per key.
            var key = $"{m.Groups["bits"].Value} {m.Groups["kind"].Value.ToUpperInvariant()}";
            counts.TryAdd(key, (long.Parse(m.Groups["count"].Value, CultureInfo.InvariantCulture), double.Parse(m.Groups["secs"].Value, CultureInfo.InvariantCulture)));
        }

        foreach (Match m in EcdhRow().Matches(stdout))
        {
            var bits = m.Groups["bits"].Value;
            counts.TryGetValue($"{bits} ECDH", out var c);
            results.Add(new Result(m.Groups["name"].Value, Double(m.Groups["ops"].Value), c.Count, c.Seconds));
        }

        foreach (Match m in FfdhRow().Matches(stdout))
        {
            var bits = m.Groups["bits"].Value;
            counts.TryGetValue($"{bits} FFDH", out var c);
            results.Add(new Result($"ffdh{bits}", Double(m.Groups["ops"].Value), c.Count, c.Seconds));
        }

        var version = VersionLine().Match(stdout) is { Success: true } v ? v.Groups[1].Value.Trim() : null;
        return (results, version);
    }

    private static double Double(string text) => double.Parse(text, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^\s*(?<bits>\d+) bits ecdh \((?<name>[^)]+)\)\s+[\d.]+s\s+(?<ops>[\d.]+)\s*$", RegexOptions.Multiline)]
    private static partial Regex EcdhRow();

    [GeneratedRegex(@"^\s*(?<bits>\d+) bits ffdh\s+[\d.]+s\s+(?<ops>[\d.]+)\s*$", RegexOptions.Multiline)]
    private static partial Regex FfdhRow();

    [GeneratedRegex(@"Doing \d+ bits\s+\w+'s for \d+s: (?<count>\d+) (?<bits>\d+)-bits (?<kind>ECDH|FFDH) ops in (?<secs>[\d.]+)s", RegexOptions.IgnoreCase)]
    private static partial Regex CountLine();

    [GeneratedRegex(@"^version:\s*(.*)$", RegexOptions.Multiline | RegexOptions.IgnoreCase)]
    private static partial Regex VersionLine();
}
