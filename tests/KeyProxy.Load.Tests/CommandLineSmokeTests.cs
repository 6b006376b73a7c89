using System.Globalization;
using System.Net;
using System.Net.Sockets;
using KeyProxy.Edge;
using KeyProxy.Load.Reports;
using KeyProxy.Silo;

namespace KeyProxy.Load.Tests;

/// <summary>keyproxy-load's own entry point, as a user runs it: the peers bind on the ports the silo says it sends to.</summary>
public class CommandLineSmokeTests
{
    [Fact]
    public async Task Proxied_sa_without_peer_ports_asks_the_silo_for_them_and_writes_the_reports()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var smoke = await LoadSmoke.StartAsync("127.0.115.0/24", "cli", ct);
        var edge = smoke.Gateway.AccessEndPoint;
        int exit = await RunAsync("proxied-sa", "--edge", edge.ToString(), "--api", KeyProxySiloHost.BaseUrl(smoke.Silo), "--handsets", "6",
            "--duration", "1s", "--peers", "2", "--peer-network", "127.0.116.0", "--nai-prefix", "cli", "--report-dir", smoke.ReportDir, "--no-live",
            "--threshold", "proxied-sa:fail<=0", "--interval", "250ms");

        Assert.Equal(0, exit);
        smoke.AssertReportsWritten("proxied-sa");
        Assert.Equal(6, smoke.Gateway.Metrics.Packets(EdgePacketClass.KeyTransferToHandset));

        // The latency over time, in 250 ms rows: every SA in exactly one row of report-intervals.csv, listed in report.md, plotted in report.html.
        var rows = File.ReadAllLines(Path.Combine(smoke.ReportDir, "report-intervals.csv"));
        Assert.Equal(CsvReport.IntervalHeader, rows[0]);
        var series = rows.Skip(1).Select(r => r.Split(',')).ToArray();
        Assert.NotEmpty(series);
        Assert.All(series, r => Assert.Equal(("proxied-sa", "proxied-sa"), (r[0], r[1])));
        Assert.All(series[..^1], r => Assert.Equal("0.25", r[3]));
        Assert.Equal(6, series.Sum(r => int.Parse(r[4], CultureInfo.InvariantCulture)));
        Assert.Equal(series.Select((_, i) => (i * 0.25).ToString("0.00", CultureInfo.InvariantCulture)), series.Select(r => r[2]));
        Assert.Contains("Over time, `proxied-sa` (0.25 s intervals):", File.ReadAllText(Path.Combine(smoke.ReportDir, "report.md")));
        Assert.Contains("<h3>Over time: proxied-sa</h3>", File.ReadAllText(Path.Combine(smoke.ReportDir, "report.html")));
    }

    [Fact]
    public async Task An_interval_that_is_not_a_duration_is_refused_before_anything_runs()
    {
        var errors = new StringWriter();
        var saved = Console.Error;
        Console.SetError(errors);
        try
        {
            int exit = await RunAsync("proxied-sa", "--api", "https://127.0.0.1:1", "--handsets", "1", "--duration", "1s", "--no-live",
                "--peer-port", "1", "--peer-natt-port", "2", "--interval", "0s");
            Assert.Equal(1, exit);
        }
        finally
        {
            Console.SetError(saved);
        }
        Assert.Contains("--interval '0s' is not a duration", errors.ToString());
    }

    [Fact]
    public async Task Without_peer_ports_and_without_a_silo_to_ask_it_says_what_to_give()
    {
        using var closed = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        closed.Bind(new IPEndPoint(IPAddress.Loopback, 0)); // bound, never listening: connections are refused
        var errors = new StringWriter();
        var saved = Console.Error;
        Console.SetError(errors);
        try
        {
            int exit = await RunAsync("proxied-sa", "--api", $"http://{closed.LocalEndPoint}", "--handsets", "1", "--duration", "1s", "--no-live");
            Assert.Equal(1, exit);
        }
        finally
        {
            Console.SetError(saved);
        }
        Assert.Contains("give --peer-port and --peer-natt-port", errors.ToString());
    }

    /// <summary>The program's entry point (the compiler's synchronous Main around the top-level statements), off the test's thread.</summary>
    private static Task<int> RunAsync(params string[] args)
    {
        var entry = typeof(CommandLineValues).Assembly.EntryPoint!;
        return Task.Run(() => (int)entry.Invoke(null, [args])!);
    }
}
