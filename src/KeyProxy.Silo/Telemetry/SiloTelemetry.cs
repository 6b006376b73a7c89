using KeyProxy.Edge;
using KeyProxy.Grains;
using KeyProxy.Ike.Protocol;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace KeyProxy.Silo.Telemetry;

/// <summary>
/// OpenTelemetry metrics for the silo (issue 20): the service's meters (edge, grains, IKE engine, admin API), Orleans'
/// own, the .NET runtime and ASP.NET Core; Prometheus scrapes <see cref="MetricsOptions.PrometheusPath"/>, OTLP pushes
/// when configured.
/// </summary>
public static class SiloTelemetry
{
    /// <summary>The meters of this service, plus Orleans' ("Microsoft.Orleans").</summary>
    public static readonly string[] Meters =
        [EdgeMetrics.MeterName, GrainMetrics.MeterName, IkeMetrics.MeterName, AdminApiMetrics.MeterName, "Microsoft.Orleans"];

    public static void AddKeyProxyMetrics(this WebApplicationBuilder builder, KeyProxySiloOptions options)
    {
        var metrics = options.Metrics;
        if (!metrics.Enabled) return;
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("keyproxy-silo", serviceInstanceId: options.EffectiveEdgeId))
            .WithMetrics(m =>
            {
                m.AddMeter(Meters);
                m.AddRuntimeInstrumentation();
                m.AddAspNetCoreInstrumentation();
                if (!string.IsNullOrEmpty(metrics.PrometheusPath)) m.AddPrometheusExporter();
                if (metrics.OtlpEndpoint is { } endpoint)
                {
                    m.AddOtlpExporter((otlp, reader) =>
                    {
                        otlp.Endpoint = new Uri(endpoint);
                        otlp.Protocol = metrics.OtlpProtocol == "grpc" ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
                        reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)metrics.OtlpExportInterval.TotalMilliseconds;
                    });
                }
            });
    }

    /// <summary>Maps the scraping endpoint when Prometheus is on.</summary>
    public static void MapKeyProxyMetrics(this WebApplication app, KeyProxySiloOptions options)
    {
        if (options.Metrics.Enabled && !string.IsNullOrEmpty(options.Metrics.PrometheusPath))
            app.MapPrometheusScrapingEndpoint(options.Metrics.PrometheusPath);
    }
}
