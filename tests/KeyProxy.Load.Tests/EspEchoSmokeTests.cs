using System.Net;
using KeyProxy.Edge;
using KeyProxy.Load.Framework;
using KeyProxy.Load.Scenarios;

namespace KeyProxy.Load.Tests;

/// <summary>
/// The <c>esp-echo</c> scenario against a real silo in this process: proxied SAs first, then UDP through them as ESP,
/// echoed by responder peers of our own engine, round trip through the edge twice.
/// </summary>
public class EspEchoSmokeTests
{
    [Fact]
    public async Task Ten_handsets_echo_esp_through_the_edge_with_no_grain_call_per_packet()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var smoke = await LoadSmoke.StartAsync("127.2.2.0/24", "esp-echo", ct);
        var gateway = smoke.Gateway;
        var api = smoke.Api;
        await using var scenario = new EspEchoScenario(new EspEchoOptions(gateway.AccessEndPoint, api, Handsets: 10, Sockets: 2,
            NaiPrefix: "especho", Peers: 2, PeerIkePort: smoke.PeerIkePort, PeerNatTPort: smoke.PeerNatTPort)
        { PeerNetwork = IPAddress.Parse("127.0.133.0"), PayloadBytes = 100, DetachAtEnd = false });
        long grainCallsAfterInit = -1;
        var scenarioWithProbe = scenario.Build() is var built ? built with
        {
            Init = async c => { await built.Init!(c); grainCallsAfterInit = gateway.Metrics.GrainCalls; },
        } : null;
        var (run, violations) = await LoadSession.RunAsync(scenarioWithProbe!, new KeepConstant(10, TimeSpan.FromSeconds(2)), smoke.ReportDir,
            [AttachSmokeTests.Parse("esp-echo:fail<=0")], TextWriter.Null, live: false, ct);

        Assert.Equal(0, scenario.AttachFailures);
        Assert.Equal(0, scenario.SaFailures);
        var step = Assert.Single(Assert.Single(run.Scenarios).Steps);
        Assert.True(step.Failed == 0, string.Join("; ", step.Failures.Select(f => $"{f.Value} × {f.Key}")));
        Assert.True(step.Ok >= 100, $"only {step.Ok} round trips in 2 s");
        Assert.Empty(violations);
        // Every round trip was echoed by a peer (plus each handset's first, held packet) ...
        Assert.Equal(step.Ok + 10, scenario.Peers!.EspEchoed);
        // ... crossed the edge both ways as routed ESP ...
        Assert.True(gateway.Metrics.Packets(EdgePacketClass.RoutedToNetwork) >= step.Ok + 10);
        Assert.True(gateway.Metrics.Packets(EdgePacketClass.RoutedToHandset) >= step.Ok + 10);
        // ... and cost no grain call (DESIGN, Wire: ESP is routed at the edge).
        Assert.Equal(grainCallsAfterInit, gateway.Metrics.GrainCalls);
        // Bytes: both access datagrams, each over 100 payload bytes plus IP, UDP and ESP headers.
        Assert.True(step.Bytes > step.Ok * 2 * (100 + 28 + 8 + 28));
        smoke.AssertReportsWritten("esp-echo");
        Assert.Contains("round trips/s", File.ReadAllText(Path.Combine(smoke.ReportDir, "report.md")));
    }
}
