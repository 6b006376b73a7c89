using System.Net;
using System.Net.Sockets;
using KeyProxy.Edge;
using KeyProxy.Silo;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace KeyProxy.Load.Tests;

/// <summary>
/// What the scenario smoke tests share: an in-process silo with its edge on a loopback pool, sending to peers on two
/// free UDP ports, and a fresh report directory; disposing stops the silo and deletes the directory.
/// </summary>
internal sealed class LoadSmoke : IAsyncDisposable
{
    private LoadSmoke(WebApplication silo, string reportDir, int peerIkePort, int peerNatTPort) =>
        (Silo, ReportDir, PeerIkePort, PeerNatTPort) = (silo, reportDir, peerIkePort, peerNatTPort);

    public WebApplication Silo { get; }

    /// <summary>Where the test's reports go (deleted on dispose).</summary>
    public string ReportDir { get; }

    /// <summary>The silo's KeyProxy:Network:PeerIkePort, where the peers bind.</summary>
    public int PeerIkePort { get; }

    /// <summary>The silo's KeyProxy:Network:PeerNatTPort.</summary>
    public int PeerNatTPort { get; }

    public EdgeGateway Gateway => Silo.Services.GetRequiredService<EdgeGateway>();

    /// <summary>The admin API's base address.</summary>
    public Uri Api => new(KeyProxySiloHost.BaseUrl(Silo) + "/");

    /// <summary>
    /// Starts the silo on <paramref name="pool"/> (distinct per test class), with <paramref name="settings"/> added; the
    /// reports go to a temp directory named after <paramref name="name"/>.
    /// </summary>
    public static Task<LoadSmoke> StartAsync(string pool, string name, CancellationToken ct, params string[] settings) =>
        StartAsync(pool, name, ct, configure: null, settings);

    /// <summary>As above, with <paramref name="configure"/> run on the silo's builder last (exporters, log capture).</summary>
    public static async Task<LoadSmoke> StartAsync(string pool, string name, CancellationToken ct, Action<WebApplicationBuilder>? configure,
        params string[] settings)
    {
        int ikePort = FreeUdpPort(), natTPort = FreeUdpPort();
        var silo = await AttachSmokeTests.StartSiloAsync(ct, pool, configure,
            [$"--KeyProxy:Network:PeerIkePort={ikePort}", $"--KeyProxy:Network:PeerNatTPort={natTPort}", .. settings]);
        return new LoadSmoke(silo, Path.Combine(Path.GetTempPath(), $"keyproxy-load-{name}-" + Guid.NewGuid().ToString("N")), ikePort, natTPort);
    }

    /// <summary>report.md, report.csv and report.html were written to <see cref="ReportDir"/> and name <paramref name="scenario"/>.</summary>
    public void AssertReportsWritten(string scenario) => AssertReportsWritten(ReportDir, scenario);

    /// <inheritdoc cref="AssertReportsWritten(string)"/>
    public static void AssertReportsWritten(string dir, string scenario)
    {
        foreach (var file in new[] { "report.md", "report.csv", "report.html" })
            Assert.Contains(scenario, File.ReadAllText(Path.Combine(dir, file)));
    }

    /// <summary>A UDP port on loopback free just now.</summary>
    public static int FreeUdpPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await Silo.StopAsync(CancellationToken.None);
        await Silo.DisposeAsync();
        if (Directory.Exists(ReportDir)) Directory.Delete(ReportDir, recursive: true);
    }
}
