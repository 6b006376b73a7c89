using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using KeyProxy.Silo;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace KeyProxy.Cli.Tests;

/// <summary>
/// The real KeyProxy host (Kestrel, Orleans, the edge, demo subscribers alice and bob) in this process on free ports, as
/// the CLI's target. Records the Authorization header of every /api request, to check what <c>--token</c> sends.
/// </summary>
public sealed class CliSiloFixture : IAsyncLifetime
{
    private WebApplication? _app;

    public string BaseUrl { get; private set; } = "";

    /// <summary>Authorization header values the API received, in order (empty string for none).</summary>
    public ConcurrentQueue<string> Authorizations { get; } = new();

    public async ValueTask InitializeAsync()
    {
        _app = KeyProxySiloHost.Build(
        [
            $"--KeyProxy:HttpUrl={KeyProxy.Testing.AdminHttp.Url}",
            $"--KeyProxy:SiloPort={FreePort()}",
            $"--KeyProxy:GatewayPort={FreePort()}",
            "--KeyProxy:ClusterId=cli-tests",
            "--KeyProxy:EdgeId=cli-edge",
            "--KeyProxy:DashboardEnabled=false",
            "--KeyProxy:Edge:AccessEndpoint=127.0.0.1:0",
            "--Logging:LogLevel:Default=Warning",
        ], builder => builder.Services.AddSingleton<IStartupFilter>(new RecordAuthorization(Authorizations)));
        await _app.StartAsync();
        BaseUrl = KeyProxySiloHost.BaseUrl(_app);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    /// <summary>A TCP port the kernel just handed out on loopback (nothing listens on it afterwards).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class RecordAuthorization(ConcurrentQueue<string> seen) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (HttpContext context, RequestDelegate following) =>
            {
                if (context.Request.Path.StartsWithSegments("/api")) seen.Enqueue(context.Request.Headers.Authorization.ToString());
                await following(context);
            });
            next(app);
        };
    }
}

[CollectionDefinition(Name)]
public sealed class CliSiloCollection : ICollectionFixture<CliSiloFixture>
{
    public const string Name = "cli silo";
}
