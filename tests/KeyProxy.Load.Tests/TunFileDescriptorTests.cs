using KeyProxy.Edge;
using KeyProxy.Load.Framework;
using KeyProxy.Load.Scenarios;
using KeyProxy.Silo;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace KeyProxy.Load.Tests;

/// <summary>
/// Issue 18: with the TUN packet path the edge's file descriptors do not grow with its attached handsets (one TUN queue
/// for the whole pool), where the socket path holds two per handset. Silo and load run in this process, so the count is
/// the process's: the load's few sockets and the admin API's connections are the only other descriptors that come and go.
/// </summary>
[Collection(AttachSmokeTests.Collection)]
public sealed class TunFileDescriptorTests(ITestOutputHelper output)
{
    /// <summary>The process's open descriptors, after the finalizers closed what earlier work dropped (else they close mid-count).</summary>
    private static int OpenDescriptors()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return Directory.GetFiles("/proc/self/fd").Length;
    }

    [Fact]
    public async Task Attaching_thousands_of_handsets_on_the_tun_path_adds_no_descriptors_where_sockets_add_two_each()
    {
        var ct = TestContext.Current.CancellationToken;
        const int tunHandsets = 3000, socketHandsets = 100;
        // A /20 is 4,094 addresses; the same pool prefix must not be routed twice on this machine.
        var (tunBefore, tunAfter) = await AttachAsync("100.64.16.0/20", tunHandsets, "fdtun", ct, "--KeyProxy:Edge:PacketPath=Tun");
        var (socketsBefore, socketsAfter) = await AttachAsync("127.0.117.0/24", socketHandsets, "fdsock", ct);
        output.WriteLine($"TUN path: {tunHandsets} attached, descriptors {tunBefore} -> {tunAfter} ({tunAfter - tunBefore:+#;-#;0}); " +
            $"socket path: {socketHandsets} attached, {socketsBefore} -> {socketsAfter} ({socketsAfter - socketsBefore:+#;-#;0})");
        Assert.True(socketsAfter - socketsBefore >= 2 * socketHandsets, $"the socket path holds two sockets per handset: {socketsBefore} -> {socketsAfter}");
        Assert.True(tunAfter - tunBefore < 32, $"the TUN path's descriptors grew with {tunHandsets} handsets: {tunBefore} -> {tunAfter}");
    }

    /// <summary>
    /// Starts a silo on <paramref name="pool"/>, attaches a first few handsets (so the load's and the admin API's own
    /// descriptors have come and gone), counts this process's descriptors, attaches <paramref name="handsets"/> more and
    /// counts again. Each batch's load closes its sockets when it ends; the handsets stay attached.
    /// </summary>
    private static async Task<(int Before, int After)> AttachAsync(string pool, int handsets, string prefix, CancellationToken ct, params string[] extra)
    {
        var silo = await AttachSmokeTests.StartSiloAsync(ct, pool, extra);
        try
        {
            var edge = silo.Services.GetRequiredService<EdgeGateway>();
            Assert.Equal(extra.Length > 0, edge.TunDeviceName is not null);
            const int first = 20;
            await AttachBatchAsync(silo, first, prefix + "a" + Environment.ProcessId, ct);
            int before = OpenDescriptors();
            await AttachBatchAsync(silo, handsets, prefix + "b" + Environment.ProcessId, ct);
            Assert.Equal(first + handsets, edge.AttachedCount);
            return (before, OpenDescriptors());
        }
        finally
        {
            await silo.StopAsync(CancellationToken.None);
            await silo.DisposeAsync();
        }
    }

    /// <summary>Attaches <paramref name="handsets"/> over up to 15 s (200/s for 3,000; at 600/s 262 attaches timed out on a loaded machine).</summary>
    private static async Task AttachBatchAsync(WebApplication silo, int handsets, string naiPrefix, CancellationToken ct)
    {
        var edge = silo.Services.GetRequiredService<EdgeGateway>();
        var api = new Uri(KeyProxySiloHost.BaseUrl(silo) + "/");
        var dir = Path.Combine(Path.GetTempPath(), "keyproxy-fd-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using var attach = new AttachScenario(new AttachOptions(edge.AccessEndPoint, api, handsets, Sockets: 4, NaiPrefix: naiPrefix) { DetachAtEnd = false });
            var (run, _) = await LoadSession.RunAsync(attach.Build(), new InjectRate(Math.Max(handsets / 15.0, 10), TimeSpan.FromSeconds(Math.Min(15, handsets / 10.0))), dir,
                [AttachSmokeTests.Parse("attach:fail<=0")], TextWriter.Null, live: false, ct);
            var step = Assert.Single(Assert.Single(run.Scenarios).Steps);
            Assert.True(step.Failed == 0, string.Join("; ", step.Failures.Select(f => $"{f.Value} × {f.Key}")));
            Assert.Equal(handsets, step.Ok);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
