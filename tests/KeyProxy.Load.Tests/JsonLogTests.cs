using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using KeyProxy.Load.Baselines;
using KeyProxy.Load.Scenarios;

namespace KeyProxy.Load.Tests;

/// <summary>
/// Issue 20 item 3: log lines carry the trace id, and are JSON by configuration. The built silo runs as its own process
/// with <c>KeyProxy:Logging:Format=Json</c> and tracing exported over OTLP/HTTP to a sink in this test; one proxied SA
/// (flow 1, a responder peer of our own engine) goes through it. Every line of its log that is JSON parses; the proxy
/// session's lines of that exchange carry one trace id, which is the trace id of the spans the sink received.
/// </summary>
public partial class JsonLogTests
{
    [Fact]
    public async Task A_silo_with_json_logs_writes_the_exchanges_trace_id_on_its_lines_and_exports_the_same_trace_over_otlp()
    {
        var ct = TestContext.Current.CancellationToken;
        using var sink = new OtlpSink(KeyProxy.Testing.FreeTcpPorts.Next());
        int peerIke = LoadSmoke.FreeUdpPort(), peerNatT = LoadSmoke.FreeUdpPort();
        var lines = new ConcurrentQueue<string>();
        var reports = Path.Combine(Path.GetTempPath(), "keyproxy-json-logs-" + Guid.NewGuid().ToString("N"));
        var silo = ChildProcess.Start(DotnetHost(), [Path.Combine(AppContext.BaseDirectory, "KeyProxy.Silo.dll")], "KeyProxy silo up: ",
            new Dictionary<string, string>
            {
                ["KeyProxy__Logging__Format"] = "Json",
                ["KeyProxy__Tracing__Enabled"] = "true",
                ["KeyProxy__Tracing__OtlpEndpoint"] = sink.Endpoint,
                ["KeyProxy__Tracing__OtlpProtocol"] = "http/protobuf",
                ["KeyProxy__HttpUrl"] = KeyProxy.Testing.AdminHttp.Url,
                ["KeyProxy__SiloPort"] = KeyProxy.Testing.FreeTcpPorts.Next().ToString(),
                ["KeyProxy__GatewayPort"] = KeyProxy.Testing.FreeTcpPorts.Next().ToString(),
                ["KeyProxy__ClusterId"] = $"json-logs-{Environment.ProcessId}",
                ["KeyProxy__EdgeId"] = "json-edge",
                ["KeyProxy__DemoSubscribers"] = "false",
                ["KeyProxy__DashboardEnabled"] = "false",
                ["KeyProxy__Edge__AccessEndpoint"] = "127.0.0.1:0",
                ["KeyProxy__Edge__AddressPool"] = "127.0.213.0/24",
                ["KeyProxy__Network__PeerIkePort"] = peerIke.ToString(),
                ["KeyProxy__Network__PeerNatTPort"] = peerNatT.ToString(),
            }, lines.Enqueue);
        try
        {
            await silo.WaitReadyAsync(TimeSpan.FromSeconds(60), ct);
            var ready = Ready().Match(string.Join('\n', lines));
            Assert.True(ready.Success, string.Join('\n', lines));
            var api = new Uri(ready.Groups["api"].Value + "/");
            var edge = IPEndPoint.Parse(ready.Groups["edge"].Value);
            await using (var scenario = new ProxiedSaScenario(new ProxiedSaOptions(edge, api, Handsets: 1, Sockets: 1, "jsonlogs", Peers: 1, peerIke, peerNatT)
                             { PeerNetwork = IPAddress.Parse("127.0.224.0"), DetachAtEnd = false }))
                await TracedSilo.RunAllOkAsync(scenario.Build(), 1, reports, ct);
        }
        finally
        {
            await silo.DisposeAsync(); // SIGTERM: the logs and the spans still batched are flushed at stop
            if (Directory.Exists(reports)) Directory.Delete(reports, recursive: true);
        }

        var records = lines.Where(l => l.StartsWith('{')).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.NotEmpty(records);
        var started = Assert.Single(records, r => Category(r) == "KeyProxy.Grains.ProxySessionGrain" && Message(r).Contains("starts as initiator"));
        var session = Regex.Match(Message(started), "Proxy session (\\S+) ").Groups[1].Value;
        var established = Assert.Single(records, r => Message(r).Contains($"Proxy session {session}: IKE SA") && Message(r).Contains("established"));
        var trace = TraceId(started);
        Assert.Matches("^[0-9a-f]{32}$", trace);
        Assert.NotEqual(new string('0', 32), trace);
        // StartInitiator and the HandleIke of IKE_AUTH's response are two grain calls from two datagrams: one trace.
        Assert.Equal(trace, TraceId(established));
        Assert.NotEqual(SpanId(started), SpanId(established));

        Assert.Contains(sink.Requests, r => r.Path == "/v1/traces");
        Assert.True(sink.Received(Convert.FromHexString(trace)), "the sink received no span of the log's trace");
        Assert.True(sink.Received(Encoding.UTF8.GetBytes("keyproxy.proxy_request")));
        Assert.True(sink.Received(Encoding.UTF8.GetBytes("IKE_AUTH")));
        Assert.DoesNotContain(lines, l => l.Contains(HandsetFleet.Secret("jsonlogs", 0)) || l.Contains(KeyProxy.Load.Peers.ResponderPeers.Psk));
    }

    private static string Category(JsonElement record) => record.GetProperty("Category").GetString() ?? "";

    private static string Message(JsonElement record) => record.GetProperty("Message").GetString() ?? "";

    /// <summary>The TraceId of the record's scopes (logging's ActivityTrackingOptions add it as a scope).</summary>
    private static string TraceId(JsonElement record) => Scope(record, "TraceId");

    private static string SpanId(JsonElement record) => Scope(record, "SpanId");

    private static string Scope(JsonElement record, string name) =>
        record.TryGetProperty("Scopes", out var scopes)
            ? scopes.EnumerateArray().Select(s => s.ValueKind == JsonValueKind.Object && s.TryGetProperty(name, out var v) ? v.GetString() : null)
                .FirstOrDefault(v => v is not null) ?? ""
            : "";

    /// <summary>The dotnet host running these tests (DOTNET_HOST_PATH under dotnet test), else the one on PATH.</summary>
    private static string DotnetHost() => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path && File.Exists(path) ? path : "dotnet";

    [GeneratedRegex(@"admin API (?<api>https?://\S+)/api, edge \S+ for handsets at (?<edge>\S+)")]
    private static partial Regex Ready();
}
