using System.Net;
using System.Net.Sockets;
using KeyProxy.Abstractions;
using KeyProxy.Edge;
using KeyProxy.Silo;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace KeyProxy.Interop.Tests.Fixtures;

/// <summary>
/// A real KeyProxy silo in this process (the same host as <c>dotnet run --project src/KeyProxy.Silo</c>):
/// Orleans with localhost clustering, in-memory storage, its edge gateway on a free access port
/// and a handset address pool of the test's choosing. Several make one cluster when the later
/// ones name the first as primary.
/// </summary>
public sealed class EdgeSilo : IAsyncDisposable
{
    private readonly WebApplication _app;

    private EdgeSilo(WebApplication app, string edgeId, int siloPort)
    {
        _app = app;
        EdgeId = edgeId;
        SiloPort = siloPort;
    }

    public string EdgeId { get; }

    public int SiloPort { get; }

    public EdgeGateway Edge => _app.Services.GetRequiredService<EdgeGateway>();

    public IGrainFactory Grains => _app.Services.GetRequiredService<IGrainFactory>();

    public IServiceProvider Services => _app.Services;

    public IPEndPoint AccessEndPoint => Edge.AccessEndPoint;

    public string BaseUrl => KeyProxySiloHost.BaseUrl(_app);

    public static async Task<EdgeSilo> StartAsync(string edgeId, string addressPool, EdgeSilo? primary = null,
        IReadOnlyDictionary<string, string>? settings = null, CancellationToken ct = default, Action<WebApplicationBuilder>? configure = null)
    {
        int siloPort = KeyProxy.Testing.FreeTcpPorts.Next(), gatewayPort = KeyProxy.Testing.FreeTcpPorts.Next();
        var args = new List<string>
        {
            $"--KeyProxy:HttpUrl={KeyProxy.Testing.AdminHttp.Url}",
            $"--KeyProxy:SiloPort={siloPort}",
            $"--KeyProxy:GatewayPort={gatewayPort}",
            $"--KeyProxy:ClusterId=e2e-{Environment.ProcessId}-{(primary?.SiloPort ?? siloPort)}",
            $"--KeyProxy:EdgeId={edgeId}",
            "--KeyProxy:DemoSubscribers=false",
            "--KeyProxy:Edge:AccessEndpoint=127.0.0.1:0",
            $"--KeyProxy:Edge:AddressPool={addressPool}",
            "--Logging:LogLevel:Default=Warning",
            "--Logging:LogLevel:KeyProxy=Information",
        };
        if (primary is not null) args.Add($"--KeyProxy:PrimarySiloPort={primary.SiloPort}");
        foreach (var (k, v) in settings ?? new Dictionary<string, string>()) args.Add($"--{k}={v}");
        var app = KeyProxySiloHost.Build([.. args], configure);
        await app.StartAsync(ct);
        return new EdgeSilo(app, edgeId, siloPort);
    }

    /// <summary>Provisions (creates or replaces) a subscriber through its grain; throws with the validation errors.</summary>
    public async Task ProvisionAsync(SubscriberProfile profile)
    {
        var result = await Grains.GetGrain<ISubscriberGrain>(profile.Nai).Provision(profile);
        if (!result.Succeeded) throw new InvalidOperationException("provision failed: " + string.Join("; ", result.Errors));
    }

    public async ValueTask DisposeAsync()
    {
        try { await _app.StopAsync(); }
        catch (Exception) { /* a stopping silo may complain about its cluster; the test is over */ }
        await _app.DisposeAsync();
    }
}
