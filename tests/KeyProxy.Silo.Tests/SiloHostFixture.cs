using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace KeyProxy.Silo.Tests;

/// <summary>The real KeyProxy host (Kestrel, Orleans, dashboard, demo subscribers) in this process, on free ports.</summary>
public sealed class SiloHostFixture : IAsyncLifetime
{
    private WebApplication? _app;

    public string BaseUrl { get; private set; } = "";

    public HttpClient Http { get; private set; } = new();

    /// <summary>Warnings and errors the host logged.</summary>
    public CapturedLogs Logs { get; } = new();

    public IServiceProvider Services => _app?.Services ?? throw new InvalidOperationException("the host is not started");

    public async ValueTask InitializeAsync()
    {
        _app = KeyProxySiloHost.Build(
        [
            $"--KeyProxy:HttpUrl={KeyProxy.Testing.AdminHttp.Url}",
            $"--KeyProxy:SiloPort={FreePorts.Next()}",
            $"--KeyProxy:GatewayPort={FreePorts.Next()}",
            "--KeyProxy:ClusterId=silo-tests",
            "--KeyProxy:Edge:AccessEndpoint=127.0.0.1:0",
            "--Logging:LogLevel:Default=Warning",
        ], builder => builder.Logging.AddProvider(Logs));
        await _app.StartAsync();
        BaseUrl = KeyProxySiloHost.BaseUrl(_app);
        Http = KeyProxy.Testing.AdminHttp.Client(new Uri(BaseUrl), TimeSpan.FromSeconds(30));
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class SiloHostCollection : ICollectionFixture<SiloHostFixture>
{
    public const string Name = "silo host";
}
