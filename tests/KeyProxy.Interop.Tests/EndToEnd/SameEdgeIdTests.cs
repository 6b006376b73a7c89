using KeyProxy.Abstractions;
using KeyProxy.Handset;
using KeyProxy.Interop.Tests.Fixtures;

namespace KeyProxy.Interop.Tests.EndToEnd;

/// <summary>
/// Two separate clusters in this process whose edges share an edge id (as end-to-end test classes
/// running in parallel do): each cluster's EdgeGrain must reach its own silo's gateway.
/// </summary>
public sealed class SameEdgeIdTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Each_cluster_s_edge_grain_reaches_its_own_gateway_when_two_clusters_share_an_edge_id()
    {
        string edgeId = "twin-" + Guid.NewGuid().ToString("N")[..6];
        await using var first = await EdgeSilo.StartAsync(edgeId, "127.0.153.0/24", ct: Ct);
        await using var second = await EdgeSilo.StartAsync(edgeId, "127.0.154.0/24", ct: Ct);
        await first.ProvisionAsync(Proxied.Subscriber("carol@keyproxy.test", "127.0.200.0/24"));
        await second.ProvisionAsync(Proxied.Subscriber("dave@keyproxy.test", "127.0.200.0/24"));
        await using var carol = Proxied.Handset("carol@keyproxy.test", first.AccessEndPoint, "127.0.200.0/24");
        await using var dave = Proxied.Handset("dave@keyproxy.test", second.AccessEndPoint, "127.0.200.0/24");
        carol.Attach();
        dave.Attach();
        var carolAt = await carol.WaitForAsync<Attached>(TimeSpan.FromSeconds(10), Ct);
        var daveAt = await dave.WaitForAsync<Attached>(TimeSpan.FromSeconds(10), Ct);

        var firstStatus = await first.Grains.GetGrain<IEdgeGrain>(edgeId).GetStatus();
        var secondStatus = await second.Grains.GetGrain<IEdgeGrain>(edgeId).GetStatus();
        var inFirst = Assert.Single(firstStatus.Attachments);
        var inSecond = Assert.Single(secondStatus.Attachments);
        Assert.Equal(("carol@keyproxy.test", carolAt.Address.ToString()), (inFirst.Nai, inFirst.HandsetAddress));
        Assert.Equal(("dave@keyproxy.test", daveAt.Address.ToString()), (inSecond.Nai, inSecond.HandsetAddress));
    }
}
