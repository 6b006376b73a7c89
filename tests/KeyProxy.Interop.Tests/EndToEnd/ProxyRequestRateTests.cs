using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using KeyProxy.Edge;
using KeyProxy.Handset;
using KeyProxy.Handset.Cli;
using KeyProxy.Interop.Tests.Fixtures;
using KeyProxy.Ipsec.Policy;
using KeyProxy.Wire;
using KeyProxy.Wire.Access;

namespace KeyProxy.Interop.Tests.EndToEnd;

/// <summary>
/// Issue 8, denial of service: a handset's proxy requests are rate-limited at its edge (token bucket,
/// <c>ProxyRequestsPerSecond</c>, <c>ProxyRequestBurst</c>), over real sockets. A handset with no SA sends one proxy
/// request per peer; 60 peers at once are 60 requests: the bucket grants its burst (and what its rate adds while the
/// requests arrive), every other request gets a ProxyRefusal Overloaded from the edge and is counted, and the cluster
/// activates exactly one proxy session per granted request.
/// </summary>
public sealed class ProxyRequestRateTests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private const string Nai = "rate@keyproxy.test";
    private const string Peers = "127.0.75.0/24"; // nobody answers there: the granted sessions stay in IKE_SA_INIT

    [Fact]
    public async Task Proxy_requests_above_the_handsets_bucket_are_refused_overloaded_and_only_granted_ones_activate_a_session()
    {
        var settings = new Dictionary<string, string>
        {
            ["KeyProxy:Edge:ProxyRequestsPerSecond"] = "2",
            ["KeyProxy:Edge:ProxyRequestBurst"] = "5",
            // The granted sessions wait for an answer that never comes; they must still be there when counted.
            ["KeyProxy:Network:RetransmitTimeout"] = "00:00:30",
        };
        await using var silo = await EdgeSilo.StartAsync("edge-request-rate", "127.0.74.0/24", settings: settings, ct: Ct);
        await silo.ProvisionAsync(Proxied.Subscriber(Nai, Peers));
        // One attempt per request: a refused request is not asked again, so requests and sessions can be counted.
        await using var handset = new UdpHandsetHost(new HandsetConfig
        {
            Identity = new SubscriberIdentity(IdentityType.Nai, Nai),
            Secret = Proxied.Secret(Nai),
            Policies =
            [
                new SecurityPolicy(PolicyAction.Protect, Selectors.Any(AddressFamily.InterNetwork), Selectors.Prefix(Peers), "protect " + Peers),
                new SecurityPolicy(PolicyAction.Bypass, Selectors.Any(AddressFamily.InterNetwork), Selectors.Any(AddressFamily.InterNetwork), "clear"),
            ],
            RequestRetry = new RequestRetryPolicy(TimeSpan.FromSeconds(60), 1, 1),
        }, silo.AccessEndPoint);
        handset.Attach();
        var address = (await handset.WaitForAsync<Attached>(TimeSpan.FromSeconds(10), Ct)).Address;
        int sessionsBefore = await SessionLeaseTests.ProxySessionActivationsAsync(silo);
        var metrics = silo.Edge.Metrics;

        const int requests = 60;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < requests; i++)
        {
            var peer = IPAddress.Parse($"127.0.75.{10 + i}");
            Assert.Equal(HandsetPacketStatus.Held, handset.Send(Proxied.Udp(address, 40000, peer, 7, "first to " + peer)).Status);
        }
        await SessionLeaseTests.EventuallyAsync(() => Task.FromResult(metrics.Packets(EdgePacketClass.ProxyRequest) == requests),
            TimeSpan.FromSeconds(10), "every proxy request at the edge");
        var sent = clock.Elapsed;
        long received = metrics.Packets(EdgePacketClass.ProxyRequest), limited = metrics.Drops(EdgeDropReason.ProxyRequestRateLimited);
        var refused = new List<ProxyRefused>();
        while (refused.Count < limited)
            refused.Add(await handset.WaitForAsync<ProxyRefused>(TimeSpan.FromSeconds(10), Ct));
        long granted = received - limited;
        await SessionLeaseTests.EventuallyAsync(async () => await SessionLeaseTests.ProxySessionActivationsAsync(silo) - sessionsBefore == granted,
            TimeSpan.FromSeconds(10), $"{granted} proxy sessions");
        int sessions = await SessionLeaseTests.ProxySessionActivationsAsync(silo) - sessionsBefore;

        output.WriteLine($"{requests} proxy requests in {sent.TotalMilliseconds:F0} ms (bucket 2/s, burst 5): edge received {received}, " +
            $"granted {granted}, ProxyRequestRateLimited {limited}, ProxyRefusal Overloaded at the handset {refused.Count}; " +
            $"proxy session activations {sessionsBefore} before, {sessions} new; other drops: ProxyRefused {metrics.Drops(EdgeDropReason.ProxyRefused)}, Malformed {metrics.Drops(EdgeDropReason.Malformed)}");
        Assert.Equal(requests, received);
        Assert.InRange(granted, 5, 5 + 2 * sent.TotalSeconds + 1);
        Assert.Equal(limited, refused.Count);
        Assert.All(refused, r => Assert.True(r.Reason == KeyProxyReason.Overloaded && r.ByEdge, $"refusal {r}"));
        Assert.Equal(requests, granted + refused.Select(r => r.Peer).Distinct().Count());
        Assert.Equal(granted, sessions);
        Assert.Equal(0, metrics.Drops(EdgeDropReason.ProxyRefused) + metrics.Drops(EdgeDropReason.Malformed));
    }
}
