using System.Net;
using System.Net.Sockets;
using KeyProxy.Load.Framework;
using KeyProxy.Load.Scenarios;

namespace KeyProxy.Load.Tests;

/// <summary>
/// GET /metrics of a silo in this process after proxied SAs (issue 20): the service's instruments, Orleans', the
/// runtime's and ASP.NET Core's are there in Prometheus' text format, and no label value names a subscriber or a
/// handset's address.
/// </summary>
public class MetricsEndpointTests
{
    private const string Pool = "127.0.176.0/24", HandsetNet = "127.0.176.", PeerNet = "127.0.177.";

    [Fact]
    public async Task Metrics_endpoint_exposes_the_named_instruments_without_subscriber_identities()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var smoke = await LoadSmoke.StartAsync(Pool, "metrics", ct);
        const int handsets = 10;
        await using (var scenario = new ProxiedSaScenario(new ProxiedSaOptions(smoke.Gateway.AccessEndPoint, smoke.Api, handsets, Sockets: 2,
            NaiPrefix: "metrics", Peers: 2, PeerIkePort: smoke.PeerIkePort, PeerNatTPort: smoke.PeerNatTPort)
            { PeerNetwork = IPAddress.Parse(PeerNet + "0"), DetachAtEnd = false }))
        {
            var (run, _) = await LoadSession.RunAsync(scenario.Build(), new InjectRate(10, TimeSpan.FromSeconds(1)), smoke.ReportDir, [],
                TextWriter.Null, live: false, ct);
            Assert.Equal(handsets, Assert.Single(Assert.Single(run.Scenarios).Steps).Ok);
        }
        // A datagram the edge drops as malformed, and an admin API 404 naming a subscriber in its path.
        using (var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0)))
            await udp.SendAsync(new byte[] { 1 }, smoke.Gateway.AccessEndPoint, ct);
        using var http = KeyProxy.Testing.AdminHttp.Client(smoke.Api);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("api/subscribers/nobody-000001@load.keyproxy.test", ct)).StatusCode);

        List<PrometheusSample> samples = [];
        string[] wanted =
        [
            "keyproxy_edge_packets_total", "keyproxy_edge_drops_total", "keyproxy_edge_grain_calls_total",
            "keyproxy_edge_grain_call_duration_seconds_bucket", "keyproxy_edge_attached", "keyproxy_edge_half_open", "keyproxy_edge_half_open_limit",
            "keyproxy_proxy_sessions_started_total", "keyproxy_proxy_sessions_established_total",
            "keyproxy_proxy_sa_setup_duration_seconds_bucket", "keyproxy_proxy_sa_setup_duration_seconds_count",
            "keyproxy_key_transfers_sealed_total", "keyproxy_key_transfers_delivered_total", "keyproxy_attach_results_total",
            "keyproxy_ike_exchanges_total", "keyproxy_admin_requests_total",
            "orleans_catalog_activations", "orleans_app_requests_latency_milliseconds_bucket",
            "dotnet_gc_collections_total", "http_server_request_duration_seconds_bucket",
        ];
        // The exporter caches a scrape for a moment: read until the last counts are in.
        for (var deadline = DateTime.UtcNow.AddSeconds(15); ; await Task.Delay(500, ct))
        {
            var response = await http.GetAsync("metrics", ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.StartsWith("text/plain", response.Content.Headers.ContentType!.MediaType);
            samples = PrometheusSample.Parse(await response.Content.ReadAsStringAsync(ct));
            var names = samples.Select(s => s.Name).ToHashSet();
            if (wanted.All(names.Contains) && Value(samples, "keyproxy_admin_requests_total", ("http_response_status_code", "404")) >= 1
                || DateTime.UtcNow > deadline)
                break;
        }
        var present = samples.Select(s => s.Name).ToHashSet();
        Assert.All(wanted, name => Assert.Contains(name, present));

        // Figures behind the names (other tests in this process add to the static meters: at least ours).
        Assert.True(Value(samples, "keyproxy_proxy_sa_setup_duration_seconds_count", ("keyproxy_proxy_role", "initiator")) >= handsets);
        Assert.True(Value(samples, "keyproxy_attach_results_total", ("keyproxy_attach_result", "accepted")) >= handsets);
        Assert.True(Value(samples, "keyproxy_key_transfers_delivered_total", ("keyproxy_key_transfer_kind", "sa_install")) >= handsets);
        Assert.True(Value(samples, "keyproxy_ike_exchanges_total", ("ike_exchange_type", "ike_auth"), ("ike_exchange_side", "initiator"),
            ("ike_exchange_result", "ok")) >= handsets);
        Assert.True(Value(samples, "keyproxy_edge_drops_total", ("reason", "malformed")) >= 1);
        Assert.True(Value(samples, "keyproxy_admin_requests_total", ("http_route", "/api/subscribers/{nai}"), ("http_response_status_code", "404")) >= 1);

        // No subscriber identity (NAI, its local part) and no handset or peer address in any label value.
        foreach (var s in samples)
            foreach (var (key, value) in s.Labels)
            {
                Assert.False(value.Contains('@') || value.Contains("metrics-0") || value.Contains("nobody"), $"{s.Name}{{{key}=\"{value}\"}} names a subscriber");
                Assert.False(value.Contains(HandsetNet) || value.Contains(PeerNet), $"{s.Name}{{{key}=\"{value}\"}} names an address");
            }
    }

    /// <summary>The sum of the samples of <paramref name="name"/> whose labels include <paramref name="labels"/>.</summary>
    private static double Value(List<PrometheusSample> samples, string name, params (string Key, string Value)[] labels) =>
        samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value)).Sum(s => s.Value);
}
