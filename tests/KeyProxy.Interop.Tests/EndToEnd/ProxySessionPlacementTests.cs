using KeyProxy.Abstractions;
using KeyProxy.Interop.Tests.Fixtures;
using Orleans.Runtime;

namespace KeyProxy.Interop.Tests.EndToEnd;

/// <summary>
/// DESIGN, Placement: proxy sessions spread over the cluster's silos by default (Diffie-Hellman is
/// the cost), and stay on the silo of the edge that starts them with <c>Network:Placement=EdgeLocal</c>.
/// Two edge silos in one cluster; sessions started from edge A.
/// </summary>
public sealed class ProxySessionPlacementTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("Spread")]
    [InlineData("EdgeLocal")]
    public async Task Sessions_are_placed_as_configured(string placement)
    {
        var settings = new Dictionary<string, string> { ["KeyProxy:Network:Placement"] = placement };
        await using var a = await EdgeSilo.StartAsync($"placement-{placement}-a", "127.0.91.0/24", settings: settings, ct: Ct);
        await using var b = await EdgeSilo.StartAsync($"placement-{placement}-b", "127.0.92.0/24", primary: a, settings: settings, ct: Ct);
        var management = a.Grains.GetGrain<IManagementGrain>(0);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while ((await management.GetHosts(true, Ct)).Count < 2)
        {
            Assert.True(DateTime.UtcNow < deadline, "the second silo did not join");
            await Task.Delay(200, Ct);
        }

        var silos = new Dictionary<SiloAddress, int>();
        for (int i = 0; i < 24; i++)
        {
            var session = a.Grains.GetGrain<IProxySessionGrain>(Guid.NewGuid());
            Assert.Null(await session.GetInfo().WaitAsync(Ct)); // activates it: nothing negotiated yet
            var silo = await management.GetActivationAddress(session, Ct) ?? throw new InvalidOperationException("no activation");
            silos[silo] = silos.GetValueOrDefault(silo) + 1;
        }

        if (placement == "EdgeLocal")
        {
            Assert.Single(silos);
        }
        else
        {
            // Random over two silos: all 24 on one has probability 2^-23.
            Assert.Equal(2, silos.Count);
        }
    }
}
