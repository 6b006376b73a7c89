using System.Net;
using System.Net.Sockets;
using KeyProxy.Edge;
using KeyProxy.Handset;
using KeyProxy.Load.Framework;
using KeyProxy.Load.Scenarios;
using KeyProxy.Silo;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace KeyProxy.Load.Tests;

/// <summary>The <c>attach</c> scenario against a real silo with its edge in this process (the embedded default's host).</summary>
[Collection(Collection)]
public class AttachSmokeTests
{
    /// <summary>Tests that attach many handsets to a silo in this process run one at a time (side by side they timed out).</summary>
    public const string Collection = "attaches in this process";

    [Fact]
    public async Task Fifty_handsets_on_two_sockets_all_attach_and_the_reports_are_written()
    {
        var ct = TestContext.Current.CancellationToken;
        var silo = await StartSiloAsync(ct);
        try
        {
            await RunAttachAsync(silo, ct);
        }
        finally
        {
            await silo.StopAsync(CancellationToken.None);
            await silo.DisposeAsync();
        }
    }

    private static async Task RunAttachAsync(WebApplication silo, CancellationToken ct)
    {
        var edge = silo.Services.GetRequiredService<EdgeGateway>().AccessEndPoint;
        var api = new Uri(KeyProxySiloHost.BaseUrl(silo) + "/");
        var dir = Path.Combine(Path.GetTempPath(), "keyproxy-load-smoke-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using var attach = new AttachScenario(new AttachOptions(edge, api, Handsets: 50, Sockets: 2, NaiPrefix: "smoke") { DetachAtEnd = false });
            var (run, violations) = await LoadSession.RunAsync(attach.Build(), new InjectRate(50 / 3.0, TimeSpan.FromSeconds(3)), dir,
                [Parse("attach:fail<=0"), Parse("attach:ok>=50")], TextWriter.Null, live: false, ct);

            var step = Assert.Single(Assert.Single(run.Scenarios).Steps);
            Assert.True(step.Failed == 0, string.Join("; ", step.Failures.Select(f => $"{f.Value} × {f.Key}")));
            Assert.Equal(50, step.Ok);
            Assert.Empty(violations);
            Assert.Equal(50, attach.AttachedAtEnd);
            Assert.All(attach.Fleet!.Handsets, h => Assert.Equal(HandsetState.Attached, h.State));
            Assert.Equal(50, attach.Fleet.Handsets.Select(h => h.TunnelId).Distinct().Count());
            Assert.True(step.Bytes > 0);
            Assert.True(step.P99Ms > 0);
            Assert.Equal(50, silo.Services.GetRequiredService<EdgeGateway>().Attachments().Count());
            LoadSmoke.AssertReportsWritten(dir, "attach");
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    internal static Threshold Parse(string text) => Threshold.TryParse(text, out var t, out var e) ? t! : throw new ArgumentException(e);

    /// <summary>
    /// An in-process silo with its edge on a loopback pool (distinct per test class: the edge binds each
    /// handset's address, so two silos in one process must not share a pool); <paramref name="extra"/> adds settings.
    /// </summary>
    internal static Task<WebApplication> StartSiloAsync(CancellationToken ct, string pool = "127.0.111.0/24", params string[] extra) =>
        StartSiloAsync(ct, pool, configure: null, extra);

    /// <summary>As above, with <paramref name="configure"/> run on the host's builder last (exporters, log capture).</summary>
    internal static async Task<WebApplication> StartSiloAsync(CancellationToken ct, string pool, Action<WebApplicationBuilder>? configure, params string[] extra)
    {
        int siloPort = KeyProxy.Testing.FreeTcpPorts.Next(), gatewayPort = KeyProxy.Testing.FreeTcpPorts.Next();
        var app = KeyProxySiloHost.Build(
        [
            $"--KeyProxy:HttpUrl={KeyProxy.Testing.AdminHttp.Url}",
            $"--KeyProxy:SiloPort={siloPort}",
            $"--KeyProxy:GatewayPort={gatewayPort}",
            $"--KeyProxy:ClusterId=load-{Environment.ProcessId}-{siloPort}",
            "--KeyProxy:EdgeId=load-edge",
            "--KeyProxy:DemoSubscribers=false",
            "--KeyProxy:Edge:AccessEndpoint=127.0.0.1:0",
            "--KeyProxy:Edge:AddressPool=" + pool,
            "--Logging:LogLevel:Default=Warning",
            .. extra,
        ], configure);
        await app.StartAsync(ct);
        return app;
    }
}
