namespace KeyProxy.Silo.Telemetry;

/// <summary>
/// "KeyProxy:Metrics": OpenTelemetry metrics of the silo, scraped by Prometheus on the HTTP listener and, when an
/// endpoint is set, pushed over OTLP.
/// </summary>
public sealed class MetricsOptions
{
    /// <summary>Collect the service's, Orleans', the runtime's and ASP.NET Core's metrics at all.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Where Prometheus scrapes, on the dashboard/API listener; empty: no scraping endpoint.</summary>
    public string PrometheusPath { get; set; } = "/metrics";

    /// <summary>An OTLP collector to push to (e.g. <c>http://127.0.0.1:4317</c>); unset: no push.</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary><c>grpc</c> or <c>http/protobuf</c>.</summary>
    public string OtlpProtocol { get; set; } = "grpc";

    /// <summary>How often metrics are pushed over OTLP.</summary>
    public TimeSpan OtlpExportInterval { get; set; } = TimeSpan.FromSeconds(15);

    public IEnumerable<string> Validate()
    {
        if (!string.IsNullOrEmpty(PrometheusPath) && !PrometheusPath.StartsWith('/'))
            yield return $"KeyProxy:Metrics:PrometheusPath '{PrometheusPath}' must start with '/' (or be empty for none)";
        if (OtlpEndpoint is not null
            && (!Uri.TryCreate(OtlpEndpoint, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            yield return $"KeyProxy:Metrics:OtlpEndpoint '{OtlpEndpoint}' is not an http:// or https:// URL";
        if (OtlpProtocol is not ("grpc" or "http/protobuf"))
            yield return $"KeyProxy:Metrics:OtlpProtocol '{OtlpProtocol}' is not 'grpc' or 'http/protobuf'";
        if (OtlpExportInterval <= TimeSpan.Zero)
            yield return $"KeyProxy:Metrics:OtlpExportInterval {OtlpExportInterval} is not positive";
    }
}
