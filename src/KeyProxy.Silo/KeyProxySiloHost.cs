using System.Net;
using KeyProxy.Abstractions;
using KeyProxy.Edge;
using KeyProxy.Grains;
using KeyProxy.Silo.Api;
using KeyProxy.Silo.Diagnostics;
using KeyProxy.Silo.Security;
using KeyProxy.Silo.Storage;
using KeyProxy.Silo.Telemetry;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Dashboard;

namespace KeyProxy.Silo;

/// <summary>
/// Builds the KeyProxy silo: Orleans (localhost or Azure Table clustering), the subscriber storage, the dashboard at
/// /dashboard and the admin API at /api, in one ASP.NET Core app. The edge gateway hooks in as a hosted service
/// reading <see cref="KeyProxySiloOptions.EdgeEnabled"/> and <see cref="KeyProxySiloOptions.EffectiveEdgeId"/>.
/// </summary>
public static class KeyProxySiloHost
{
    /// <summary>The line printed once the silo and the HTTP endpoints are up; tests and scripts wait for it.</summary>
    public const string ReadyPrefix = "KeyProxy silo up: ";

    /// <summary>
    /// The configured app, not yet started. Throws <see cref="SiloConfigurationException"/> listing every problem
    /// when the configuration cannot work.
    /// </summary>
    public static WebApplication Build(string[] args) => Build(args, configure: null);

    /// <summary>
    /// As <see cref="Build(string[])"/>, with <paramref name="configure"/> run on the builder last (tests add log
    /// providers and the like).
    /// </summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            // appsettings.json sits next to the binary, whatever the working directory of `dotnet run`.
            ContentRootPath = AppContext.BaseDirectory,
        });

        var options = ReadOptions(builder.Configuration);
        // Secrets at rest (issue 16): the keys are read, or in Development mode made, before anything starts.
        var secrets = options.IsAzureTable ? SecretsProtector(options, Console.Out) : null;
        // Cluster TLS (issue 16 item 3): certificates read, or in Development mode made by the local CA, before anything starts.
        var tls = ClusterTlsMaterial.Load(options.ClusterTls, options.IsProduction, options.EffectiveDevelopmentDirectory,
            options.IsAzureTable ? IPAddress.Parse(options.AdvertisedAddress) : null, Console.Out);
        builder.Services.AddSingleton(Options.Create(options));
        AddAdminSecurity(builder, options);

        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = options.ClusterId;
                o.ServiceId = options.ServiceId;
            });
            if (options.IsAzureTable)
            {
                var connectionString = options.StorageConnectionString!;
                silo.ConfigureEndpoints(IPAddress.Parse(options.AdvertisedAddress), options.SiloPort, options.GatewayPort);
                silo.UseKeyProxyAzureStorage(connectionString, secrets!);
            }
            else
            {
                silo.UseLocalhostClustering(
                    options.SiloPort,
                    options.GatewayPort,
                    options.PrimarySiloPort is { } primary ? new IPEndPoint(IPAddress.Loopback, primary) : null,
                    options.ServiceId,
                    options.ClusterId);
                silo.AddMemoryGrainStorage(StorageNames.Subscribers);
                silo.AddMemoryGrainStorage(StorageNames.Directory);
                // One silo (or a few on one machine sharing nothing durable): reminders need not outlive the process.
                silo.UseInMemoryReminderService();
            }

            if (tls is not null)
            {
                silo.UseKeyProxyClusterTls(tls);
            }

            if (options.FastFailureDetection)
            {
                silo.Configure<ClusterMembershipOptions>(MembershipPresets.FastFailureDetection);
            }

            // Every edge silo is named after its edge, so EdgeGrain activations land where the edge's sockets are.
            silo.Configure<SiloOptions>(o => o.SiloName = options.EffectiveEdgeId);
            silo.Services.AddSingleton(Options.Create(options.Network));
            // The subscriber's reminder ticks every KeyProxy:Network:PendingDeleteRetry (issue 15: it brings a subscriber back
            // after a silo death to audit its session record); Orleans refuses periods under its minimum (1 min) otherwise.
            silo.Configure<ReminderOptions>(o =>
            {
                if (options.Network.PendingDeleteRetry < o.MinimumReminderPeriod) o.MinimumReminderPeriod = options.Network.PendingDeleteRetry;
            });
            silo.Services.AddPlacementDirector<ProxySessionPlacementStrategy, ProxySessionPlacementDirector>();
            silo.Services.AddPlacementDirector<EdgePlacementStrategy, EdgePlacementDirector>();
            silo.Services.AddSingleton<GrainCallCounter>();
            silo.Services.AddSingleton<IIncomingGrainCallFilter>(sp => sp.GetRequiredService<GrainCallCounter>());

            if (options.DashboardEnabled) silo.AddDashboard();
            silo.AddKeyProxyTracing(options);
        });

        if (options.EdgeEnabled)
        {
            // Registered after the silo: the edge starts once the silo is up and stops while it still runs,
            // so it can tell subscriber grains that their handsets are gone.
            options.Edge.EdgeId = options.EffectiveEdgeId;
            builder.Services.AddSingleton(Options.Create(options.Edge));
            builder.Services.AddSingleton<EdgeGateway>();
            builder.Services.AddHostedService(sp => sp.GetRequiredService<EdgeGateway>());
        }

        if (options.EffectiveDemoSubscribers)
        {
            builder.Services.AddHostedService<DemoSubscriberProvisioner>();
        }

        builder.Services.AddSingleton<RefusedRequests>();
        builder.AddKeyProxyMetrics(options);
        builder.AddKeyProxyTracing(options);
        builder.AddKeyProxyLogging(options);
        configure?.Invoke(builder);
        var app = builder.Build();
        if (secrets is EnvelopeSecrets envelope) envelope.Logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger<EnvelopeSecrets>();
        app.UseAdminApiMetrics();
        AdminHttps.MarkRequests(app);
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            ExceptionHandler = WriteError,
            // A client's malformed or oversize request is logged by WriteError as a counted warning, not as an error
            // with a stack trace: any client could fill the log with those.
            SuppressDiagnosticsCallback = c => c.Exception is BadHttpRequestException,
        });
        app.UseKeyProxyAdminAuth();
        if (options.DashboardEnabled) app.MapOrleansDashboard("/dashboard");
        app.MapKeyProxyAdminApi();
        app.MapKeyProxyMetrics(options);
        app.Lifetime.ApplicationStarted.Register(() => Console.WriteLine(AdminAccessNote(app) + ReadyLine(app)));
        return app;
    }

    /// <summary>The base URL the app listens on (after start: the bound port, also when 0 was asked for).</summary>
    public static string BaseUrl(WebApplication app) => app.Urls.First().TrimEnd('/');

    private static string ReadyLine(WebApplication app)
    {
        var baseUrl = BaseUrl(app);
        var edge = app.Services.GetService<EdgeGateway>();
        var dashboard = app.Services.GetRequiredService<IOptions<KeyProxySiloOptions>>().Value.DashboardEnabled;
        // Only what this silo serves: without the dashboard, /dashboard answers 404.
        return ReadyPrefix + (dashboard ? $"dashboard {baseUrl}/dashboard, " : "") + $"admin API {baseUrl}/api" +
            (edge is null ? "" : $", edge {edge.EdgeId} for handsets at {edge.AccessEndPoint}") +
            (dashboard ? "" : " (no dashboard: KeyProxy:DashboardEnabled is false)");
    }

    /// <summary>
    /// Issue 16 items 1, 2 and 5: the listener's URL(s) and HTTPS certificate, and the token rules, from configuration or
    /// made by Development mode (announced on the console, as cluster TLS is).
    /// </summary>
    private static void AddAdminSecurity(WebApplicationBuilder builder, KeyProxySiloOptions options)
    {
        builder.WebHost.UseUrls(AdminHttps.ListenUrls(options, builder.Configuration["urls"]));
        var advertised = options.IsAzureTable ? IPAddress.Parse(options.AdvertisedAddress) : null;
        var https = AdminHttps.Load(options.AdminHttps, options.IsProduction, options.EffectiveDevelopmentDirectory, advertised, Console.Out);
        if (https is not null)
        {
            builder.Services.AddSingleton(https);
            https.Configure(builder);
        }

        var auth = AdminAuthMaterial.Load(options.AdminAuth, options.IsProduction, options.EffectiveDevelopmentDirectory, Console.Out);
        builder.AddKeyProxyAdminAuth(auth, options.Metrics.Enabled && !string.IsNullOrEmpty(options.Metrics.PrometheusPath) ? options.Metrics.PrometheusPath : null);
    }

    /// <summary>The line before the ready line: where Development mode's token and CA are (paths only, never their contents).</summary>
    private static string AdminAccessNote(WebApplication app)
    {
        var token = app.Services.GetService<AdminAuthMaterial>()?.DevelopmentTokenPath;
        var ca = app.Services.GetService<AdminHttps>()?.CaCertificatePath;
        return token is null && ca is null ? "" : "KeyProxy admin access: " +
            string.Join(", ", new[] { token is null ? null : $"token {token}", ca is null ? null : $"CA {ca}" }.OfType<string>()) +
            $" (curl --cacert CA -H \"Authorization: Bearer $(cat TOKEN)\")" + Environment.NewLine;
    }

    /// <summary>Settings that were given up, and the one that replaced each (issue 21: one setting for one fact).</summary>
    private static readonly (string Old, string New)[] Replaced =
    [
        ("KeyProxy:Edge:HandsetIkePort", "KeyProxy:Network:HandsetIkePort"),
        ("KeyProxy:Edge:HandsetNatTPort", "KeyProxy:Network:HandsetNatTPort"),
        ("KeyProxy:Edge:HalfOpenTimeout", "KeyProxy:Network:HalfOpenTimeout"),
    ];

    private static KeyProxySiloOptions ReadOptions(IConfiguration configuration)
    {
        var replaced = Replaced.Where(r => configuration[r.Old] is not null)
            .Select(r => $"{r.Old} is not a setting any more; {r.New} is the one setting for the edges and the proxy sessions")
            .ToList();
        if (replaced.Count > 0)
        {
            throw new SiloConfigurationException(replaced);
        }

        KeyProxySiloOptions options;
        try
        {
            options = configuration.GetSection(KeyProxySiloOptions.SectionName)
                .Get<KeyProxySiloOptions>(o => o.ErrorOnUnknownConfiguration = true) ?? new KeyProxySiloOptions();
        }
        catch (InvalidOperationException e)
        {
            throw new SiloConfigurationException([e.InnerException is { } inner ? $"{e.Message} {inner.Message}" : e.Message]);
        }

        var errors = options.Validate();
        return errors.Count > 0 ? throw new SiloConfigurationException(errors) : options;
    }

    /// <summary>
    /// What the subscriber rows' secrets are stored under: with <c>KeyProxy:SecretsAtRest:Enabled</c> (the default) the
    /// envelope (<see cref="EnvelopeProtector"/>); with it false, <see cref="SecretsAtRestOff"/>, announced on
    /// <paramref name="notice"/> (Validate has already refused that in Production mode).
    /// </summary>
    internal static IStoredSecretProtector SecretsProtector(KeyProxySiloOptions options, TextWriter notice)
    {
        if (options.SecretsAtRest.Enabled) return EnvelopeProtector(options, notice);
        notice.WriteLine($"Secrets at rest: OFF ({SecretsAtRestOptions.EnabledSetting}=false). Subscriber secrets, pre-shared keys and private keys " +
            "are written unprotected (marked 'unprotected:'), readable by anyone who reads the table; rows found encrypted are refused. Development mode only.");
        return new SecretsAtRestOff();
    }

    /// <summary>
    /// The envelope over the configured key-encryption keys, or Development mode's local key (announced on
    /// <paramref name="notice"/>); <see cref="SiloConfigurationException"/> when they cannot be had. Development mode
    /// loads rows still stored unprotected (counted, logged; their next write encrypts them); Production mode refuses
    /// them (README, "Secrets at rest").
    /// </summary>
    internal static EnvelopeSecrets EnvelopeProtector(KeyProxySiloOptions options, TextWriter notice) =>
        new(KeyEncryptionKeys.FromOptions(options.SecretsAtRest, options.IsProduction, notice), acceptUnprotected: !options.IsProduction);

    private static async Task WriteError(HttpContext context)
    {
        var failure = context.Features.Get<IExceptionHandlerFeature>()?.Error;
        var (status, message) = failure switch
        {
            BadHttpRequestException bad => (bad.StatusCode, bad.Message),
            _ => (StatusCodes.Status500InternalServerError, "internal error; the silo log has the details"),
        };
        if (failure is BadHttpRequestException)
        {
            context.RequestServices.GetRequiredService<RefusedRequests>().Count(status);
            var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(AdminApi));
            AdminApi.LogRefused(logger, context.Request.Method, context.Request.Path.Value ?? "", status, message);
        }

        context.Response.StatusCode = status;
        await context.Response.WriteAsJsonAsync(new ErrorDto(message), AdminApi.JsonOptions);
    }
}
