using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace KeyProxy.Benchmarks;

/// <summary>
/// strongSwan's own crypto tester with benchmarking on (libstrongswan.crypto_test.bench): swanctl loads the plugins
/// named, each key exchange method is checked against strongSwan's test vectors and then timed as strongSwan's
/// bench_ke does, a whole exchange per run (two key pairs, both public values, the shared secret), for bench_time.
/// Needs the strongSwan 6 that infra/strongswan/build-charon6.sh builds (test-vectors and drbg plugins).
/// </summary>
internal static partial class StrongSwanCryptoBench
{
    public sealed record Result(string Method, string Plugin, long Runs, double Seconds)
    {
        public double ExchangesPerSecond => Runs / Seconds;
    }

    [GeneratedRegex(@"enabled\s+(?<method>\S+)\[(?<plugin>[^\]]+)\]: passed \d+ test vectors, (?<points>\d+) points")]
    private static partial Regex EnabledLine();

    public static async Task<(IReadOnlyList<Result> Results, string? Error)> RunAsync(string swanctl, string plugins, int milliseconds)
    {
        var conf = Path.Combine(Path.GetTempPath(), $"keyproxy-ss-bench-{Environment.ProcessId}.conf");
        await File.WriteAllTextAsync(conf, $$"""
            libstrongswan {
              crypto_test {
                on_add = yes
                bench = yes
                bench_time = {{milliseconds}}
              }
            }
            swanctl {
              load = {{plugins}}
            }
            """);
        try
        {
            var start = new ProcessStartInfo(swanctl) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { "--version", "--debug", "1" }) start.ArgumentList.Add(a);
            start.Environment["STRONGSWAN_CONF"] = conf;
            Process process;
            try { process = Process.Start(start)!; }
            catch (System.ComponentModel.Win32Exception e) { return ([], $"cannot run {swanctl}: {e.Message}"); }
            using (process)
            {
                var stdout = process.StandardOutput.ReadToEndAsync();
                var stderr = process.StandardError.ReadToEndAsync();
                await process.WaitForExitAsync();
                var results = new List<Result>();
                foreach (Match m in EnabledLine().Matches(await stdout + await stderr))
                    results.Add(new Result(m.Groups["method"].Value, m.Groups["plugin"].Value,
                        long.Parse(m.Groups["points"].Value, CultureInfo.InvariantCulture), milliseconds / 1000.0));
                return (results, results.Count == 0 ? "no benchmark lines in swanctl's output (test-vectors plugin missing?)" : null);
            }
        }
        finally
        {
            File.Delete(conf);
        }
    }
}
