using System.Net;

namespace KeyProxy.Silo;

/// <summary>
/// The host's settings, bound from the configuration section "KeyProxy" (appsettings.json, environment variables
/// such as <c>KeyProxy__Clustering=AzureTable</c>, command-line arguments such as <c>--KeyProxy:SiloPort=11112</c>).
/// </summary>
public sealed class KeyProxySiloOptions
{
    public const string SectionName = "KeyProxy";
    public const string LocalhostClustering = "Localhost";
    public const string AzureTableClustering = "AzureTable";
    public const string DefaultHttpUrl = "http://127.0.0.1:8080";
    /// <summary>The listener when unset and HTTPS is on (the default, issue 16 item 2).</summary>
    public const string DefaultHttpsUrl = "https://127.0.0.1:8080";
    public const string DevelopmentMode = "Development";
    public const string ProductionMode = "Production";

    /// <summary>
    /// "Development" (the default: what is not configured is made up locally and said where, e.g. the key for secrets at
    /// rest) or "Production" (what is not configured stops the silo at start with exit code 2). Issue 16 item 5.
    /// </summary>
    public string Mode { get; set; } = DevelopmentMode;

    /// <summary>"Localhost" (one silo or a few on one machine, in-memory storage) or "AzureTable" (membership and storage in Azure Table storage).</summary>
    public string Clustering { get; set; } = LocalhostClustering;

    /// <summary>Azure Table storage connection string (Azurite or a real account); required for AzureTable, refused for Localhost.</summary>
    public string? StorageConnectionString { get; set; }

    public string ClusterId { get; set; } = "keyproxy";

    public string ServiceId { get; set; } = "keyproxy";

    /// <summary>Silo-to-silo port.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>Client gateway port.</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>Localhost clustering only: the silo port of the primary silo when this is a second silo on the machine; unset for the primary.</summary>
    public int? PrimarySiloPort { get; set; }

    /// <summary>AzureTable clustering only: the IP address other silos reach this one at.</summary>
    public string AdvertisedAddress { get; set; } = "127.0.0.1";

    /// <summary>Dashboard and admin API address; unset: <c>--urls</c> / ASPNETCORE_URLS, else <see cref="DefaultHttpsUrl"/> (<see cref="DefaultHttpUrl"/> with AdminHttps off).</summary>
    public string? HttpUrl { get; set; }

    /// <summary>Provision the demo subscribers (alice, bob) at start when absent; unset: on for Localhost, off for AzureTable.</summary>
    public bool? DemoSubscribers { get; set; }

    /// <summary>This silo's edge name, as attachments record it; unset: machine name and silo port.</summary>
    public string? EdgeId { get; set; }

    /// <summary>Whether this silo runs the edge gateway (DESIGN: every silo of the embedded default is also an edge).</summary>
    public bool EdgeEnabled { get; set; } = true;

    /// <summary>
    /// Whether this silo runs the Orleans dashboard at /dashboard. It profiles every grain call and samples every
    /// grain once a second: a silo serving heavy load may do without it (docs/PERFORMANCE.md).
    /// </summary>
    public bool DashboardEnabled { get; set; } = true;

    /// <summary>Membership failure detection in seconds instead of about half a minute (tests and local clusters).</summary>
    public bool FastFailureDetection { get; set; }

    /// <summary>The edge gateway of this silo ("KeyProxy:Edge"): access endpoint, handset address pool, network-side ports.</summary>
    public KeyProxy.Edge.EdgeOptions Edge { get; set; } = new();

    /// <summary>Proxied IKE ("KeyProxy:Network"), the same on every silo: handset and peer ports, lifetimes, timeouts, session placement.</summary>
    public KeyProxy.Abstractions.ProxyNetworkOptions Network { get; set; } = new();

    /// <summary>OpenTelemetry metrics ("KeyProxy:Metrics"): Prometheus scraping path, OTLP push.</summary>
    public Telemetry.MetricsOptions Metrics { get; set; } = new();

    /// <summary>Traces of proxied exchanges ("KeyProxy:Tracing"): on or off, OTLP export, sampling.</summary>
    public Telemetry.TracingOptions Tracing { get; set; } = new();

    /// <summary>The console log's format ("KeyProxy:Logging"): Text or Json.</summary>
    public Telemetry.LoggingOptions Logging { get; set; } = new();

    /// <summary>Encryption of subscriber secrets in Azure Table storage ("KeyProxy:SecretsAtRest"); unused with Localhost's in-memory storage.</summary>
    public Storage.SecretsAtRestOptions SecretsAtRest { get; set; } = new();

    /// <summary>Mutual TLS between silos and on the client gateway ("KeyProxy:ClusterTls", issue 16 item 3); on by default.</summary>
    public Security.ClusterTlsOptions ClusterTls { get; set; } = new();

    /// <summary>Bearer tokens and roles on the admin API, dashboard and /metrics ("KeyProxy:AdminAuth", issue 16 item 1); on by default.</summary>
    public Security.AdminAuthOptions AdminAuth { get; set; } = new();

    /// <summary>HTTPS on the admin API and dashboard listener ("KeyProxy:AdminHttps", issue 16 item 2); on by default.</summary>
    public Security.AdminHttpsOptions AdminHttps { get; set; } = new();

    /// <summary>Development mode's directory for generated keys and certificates (secrets-at-rest key, local CA).</summary>
    public string EffectiveDevelopmentDirectory => SecretsAtRest.DevelopmentKeyDirectory ?? Storage.SecretsAtRestOptions.DefaultDevelopmentKeyDirectory;

    public bool IsProduction => string.Equals(Mode, ProductionMode, StringComparison.OrdinalIgnoreCase);

    public bool IsAzureTable => string.Equals(Clustering, AzureTableClustering, StringComparison.OrdinalIgnoreCase);

    public bool EffectiveDemoSubscribers => DemoSubscribers ?? !IsAzureTable;

    public string EffectiveEdgeId => string.IsNullOrWhiteSpace(EdgeId) ? $"{Environment.MachineName}-{SiloPort}" : EdgeId;

    /// <summary>Every problem with these settings, empty when the host can start.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        var localhost = string.Equals(Clustering, LocalhostClustering, StringComparison.OrdinalIgnoreCase);
        if (!localhost && !IsAzureTable)
        {
            errors.Add($"KeyProxy:Clustering is '{Clustering}'; expected '{LocalhostClustering}' or '{AzureTableClustering}'");
        }

        if (!IsProduction && !string.Equals(Mode, DevelopmentMode, StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"KeyProxy:Mode is '{Mode}'; expected '{DevelopmentMode}' or '{ProductionMode}'");
        }

        if (IsAzureTable)
        {
            errors.AddRange(SecretsAtRest.Validate(IsProduction));
        }
        else if (SecretsAtRest.SwitchProblem(IsProduction) is { } switchedOff)
        {
            errors.Add(switchedOff);
        }

        if (IsAzureTable && string.IsNullOrWhiteSpace(StorageConnectionString))
        {
            errors.Add("KeyProxy:StorageConnectionString is required with Clustering=AzureTable (e.g. Azurite's, from infra/azurite/azurite.sh connection-string)");
        }

        if (IsAzureTable && !string.IsNullOrWhiteSpace(StorageConnectionString) && ConnectionStringProblem(StorageConnectionString) is { } problem)
        {
            errors.Add($"KeyProxy:StorageConnectionString is not an Azure Storage connection string: {problem}");
        }

        if (localhost && !string.IsNullOrWhiteSpace(StorageConnectionString))
        {
            errors.Add("KeyProxy:StorageConnectionString is set but Clustering is Localhost, whose storage is in memory; set Clustering=AzureTable or remove the connection string");
        }

        if (localhost && PrimarySiloPort is { } primary && primary is < 1 or > 65535)
        {
            errors.Add($"KeyProxy:PrimarySiloPort {primary} is not a port (1-65535)");
        }

        if (IsAzureTable && PrimarySiloPort is not null)
        {
            errors.Add("KeyProxy:PrimarySiloPort applies to Localhost clustering only; AzureTable silos find each other in the membership table");
        }

        if (IsAzureTable && !IPAddress.TryParse(AdvertisedAddress, out _))
        {
            errors.Add($"KeyProxy:AdvertisedAddress '{AdvertisedAddress}' is not an IP address");
        }

        if (SiloPort is < 1 or > 65535)
        {
            errors.Add($"KeyProxy:SiloPort {SiloPort} is not a port (1-65535)");
        }

        if (GatewayPort is < 1 or > 65535)
        {
            errors.Add($"KeyProxy:GatewayPort {GatewayPort} is not a port (1-65535)");
        }

        if (SiloPort == GatewayPort)
        {
            errors.Add($"KeyProxy:SiloPort and KeyProxy:GatewayPort are both {SiloPort}; they must differ");
        }

        if (string.IsNullOrWhiteSpace(ClusterId))
        {
            errors.Add("KeyProxy:ClusterId is empty");
        }

        if (string.IsNullOrWhiteSpace(ServiceId))
        {
            errors.Add("KeyProxy:ServiceId is empty");
        }

        if (HttpUrl is not null && !IsHttpUrl(HttpUrl))
        {
            errors.Add($"KeyProxy:HttpUrl '{HttpUrl}' is not an http:// or https:// URL such as '{DefaultHttpsUrl}'");
        }

        if (EdgeId is not null && string.IsNullOrWhiteSpace(EdgeId))
        {
            errors.Add("KeyProxy:EdgeId is blank; remove it for the default (machine name and silo port)");
        }

        errors.AddRange(ClusterTls.Validate(IsProduction));
        errors.AddRange(AdminAuth.Validate(IsProduction));
        errors.AddRange(AdminHttps.Validate(IsProduction));
        errors.AddRange(Network.Validate());
        errors.AddRange(Metrics.Validate());
        errors.AddRange(Tracing.Validate());
        errors.AddRange(Logging.Validate());
        if (EdgeEnabled)
        {
            errors.AddRange(Edge.Validate());
        }

        return errors;
    }

    /// <summary>
    /// What the Azure SDK finds wrong with the connection string, or null. Checked here so a typo stops the silo at
    /// start with exit code 2 instead of failing inside Orleans' first membership call; the message never repeats
    /// the string itself, which carries the account key.
    /// </summary>
    private static string? ConnectionStringProblem(string connectionString)
    {
        try
        {
            _ = new Azure.Data.Tables.TableServiceClient(connectionString);
            return null;
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
        {
            return e.Message;
        }
    }

    private static bool IsHttpUrl(string url) =>
        Uri.TryCreate(url.Replace("://*", "://localhost", StringComparison.Ordinal).Replace("://+", "://localhost", StringComparison.Ordinal), UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
}
