using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace KeyProxy.Benchmarks;

/// <summary>Runs `openssl speed -evp CIPHER -bytes N` and reads its bytes-per-second figure.</summary>
internal static partial class OpenSslEvpSpeed
{
    /// <summary>Bytes per second of <paramref name="cipher"/> on <paramref name="bytes"/>-byte buffers, or null with the reason.</summary>
    public static async Task<(double? BytesPerSecond, string? Version, string? Error)> RunAsync(string cipher, int bytes, int seconds)
    {
        var start = new ProcessStartInfo("openssl")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "speed", "-seconds", seconds.ToString(CultureInfo.InvariantCulture), "-bytes", bytes.ToString(CultureInfo.InvariantCulture), "-evp", cipher })
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (null, null, $"cannot run openssl: {e.Message}");
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            await stderr;
            var (rate, version) = Parse(await stdout, cipher);
            return (rate, version, process.ExitCode == 0 ? null : $"openssl speed exited with {process.ExitCode}");
        }
    }

    /// <summary>stdout ends with "type  1400 bytes" and "AES-128-GCM  2494258.20k" (1000s of bytes per second).</summary>
    internal static (double? BytesPerSecond, string? Version) Parse(string stdout, string cipher)
    {
        double? rate = null;
        foreach (Match m in RateRow().Matches(stdout))
        {
            if (string.Equals(m.Groups["name"].Value, cipher, StringComparison.OrdinalIgnoreCase))
            {
                rate = double.Parse(m.Groups["k"].Value, CultureInfo.InvariantCulture) * 1000;
            }
        }

        var version = VersionLine().Match(stdout) is { Success: true } v ? v.Groups[1].Value.Trim() : null;
        return (rate, version);
    }

    [GeneratedRegex(@"^(?<name>[A-Za-z0-9-]+)\s+(?<k>[\d.]+)k\s*$", RegexOptions.Multiline)]
    private static partial Regex RateRow();

    [GeneratedRegex(@"^version:\s*(.*)$", RegexOptions.Multiline | RegexOptions.IgnoreCase)]
    private static partial Regex VersionLine();
}
