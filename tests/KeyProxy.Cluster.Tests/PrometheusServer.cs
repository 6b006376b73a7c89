using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace KeyProxy.Cluster.Tests;

/// <summary>
/// A real Prometheus (Debian's package) on a free port, scraping the given silos' /metrics every second with the
/// alert rules of infra/prometheus loaded; PromQL through its HTTP API. Disposing stops it and deletes its data.
/// </summary>
internal sealed class PrometheusServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _dir;
    private readonly HttpClient _http;
    private readonly StringWriter _output = new();

    private PrometheusServer(Process process, string dir, Uri url) =>
        (_process, _dir, _http) = (process, dir, new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(10) });

    /// <summary>The repository's infra/prometheus.</summary>
    public static string InfraDirectory
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "infra", "prometheus", "prometheus.yml"))) return Path.Combine(dir.FullName, "infra", "prometheus");
            throw new InvalidOperationException($"infra/prometheus not found above {AppContext.BaseDirectory}");
        }
    }

    public static async Task<PrometheusServer> StartAsync(IEnumerable<Uri> silos)
    {
        var dir = Directory.CreateTempSubdirectory("keyproxy-prometheus-").FullName;
        var targets = string.Join(", ", silos.Select(s => $"\"{s.Authority}\""));
        File.Copy(Path.Combine(InfraDirectory, "alerts.yml"), Path.Combine(dir, "alerts.yml"));
        // As infra/prometheus/prometheus.yml: HTTPS trusting the silos' CA, Development mode's read-only token (issue 16).
        var read = KeyProxy.AdminAccess.AdminCredentials.Development(tokenFile: KeyProxy.AdminAccess.AdminCredentials.ReadTokenFileName);
        await File.WriteAllTextAsync(Path.Combine(dir, "keyproxy-read.token"), read.Token ?? throw new InvalidOperationException("no Development-mode read token"));
        File.Copy(read.CaPath ?? throw new InvalidOperationException("no Development-mode CA"), Path.Combine(dir, "keyproxy-ca.pem"));
        await File.WriteAllTextAsync(Path.Combine(dir, "prometheus.yml"), $"""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            rule_files:
              - alerts.yml
            scrape_configs:
              - job_name: keyproxy
                metrics_path: /metrics
                scheme: https
                tls_config:
                  ca_file: keyproxy-ca.pem
                authorization:
                  credentials_file: keyproxy-read.token
                static_configs:
                  - targets: [{targets}]
            """);
        int port = KeyProxy.Testing.FreeTcpPorts.Next();
        var info = new ProcessStartInfo("prometheus")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = dir,
        };
        foreach (var a in new[] { $"--config.file={dir}/prometheus.yml", $"--storage.tsdb.path={dir}/data", $"--web.listen-address=127.0.0.1:{port}" })
            info.ArgumentList.Add(a);
        var process = Process.Start(info) ?? throw new InvalidOperationException("prometheus did not start (Debian package prometheus; scripts/test.sh installs it)");
        var server = new PrometheusServer(process, dir, new Uri($"http://127.0.0.1:{port}/"));
        process.OutputDataReceived += (_, e) => { lock (server._output) server._output.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (server._output) server._output.WriteLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        for (var deadline = DateTime.UtcNow.AddSeconds(30); ; await Task.Delay(200))
        {
            if (process.HasExited) throw new InvalidOperationException($"prometheus exited with {process.ExitCode}:\n{server.Output}");
            try
            {
                if ((await server._http.GetAsync("-/ready")).IsSuccessStatusCode) return server;
            }
            catch (HttpRequestException) { }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"prometheus not ready in 30 s:\n{server.Output}");
        }
    }

    public string Output { get { lock (_output) return _output.ToString(); } }

    /// <summary>An instant query's result: each series' labels and value.</summary>
    public async Task<List<(Dictionary<string, string> Labels, double Value)>> QueryAsync(string promql)
    {
        using var doc = JsonDocument.Parse(await _http.GetStringAsync("api/v1/query?query=" + Uri.EscapeDataString(promql)));
        var data = doc.RootElement.GetProperty("data");
        var result = new List<(Dictionary<string, string>, double)>();
        if (data.GetProperty("resultType").GetString() == "scalar")
        {
            result.Add(([], Value(data.GetProperty("result")[1])));
            return result;
        }
        foreach (var series in data.GetProperty("result").EnumerateArray())
            result.Add((series.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!), Value(series.GetProperty("value")[1])));
        return result;
    }

    /// <summary>The single value of a query that gives one series (NaN when it gives none).</summary>
    public async Task<double> ScalarAsync(string promql) => (await QueryAsync(promql)) switch
    {
        [] => double.NaN,
        [var one] => one.Value,
        var many => throw new InvalidOperationException($"{promql} gave {many.Count} series"),
    };

    /// <summary>The loaded rules of infra/prometheus/alerts.yml: name and health.</summary>
    public async Task<List<(string Name, string Health)>> RulesAsync()
    {
        using var doc = JsonDocument.Parse(await _http.GetStringAsync("api/v1/rules"));
        return [.. doc.RootElement.GetProperty("data").GetProperty("groups").EnumerateArray()
            .SelectMany(g => g.GetProperty("rules").EnumerateArray())
            .Select(r => (r.GetProperty("name").GetString()!, r.GetProperty("health").GetString()!))];
    }

    private static double Value(JsonElement e) => double.Parse(e.GetString()!, CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
