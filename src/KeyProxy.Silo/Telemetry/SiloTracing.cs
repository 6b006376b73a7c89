using KeyProxy.Edge.Tracing;
using KeyProxy.Grains.Tracing;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace KeyProxy.Silo.Telemetry;

/// <summary>
/// Traces (issue 20 item 3): one proxied exchange is one trace, from the edge's proxy request (flow 1) or the peer's
/// IKE_SA_INIT (flow 2) through the grain calls (Orleans' activity propagation) to the IKE exchanges' spans and the key
/// transfer. Registered with OpenTelemetry only when <see cref="TracingOptions.Enabled"/>; otherwise no source has a
/// listener and no span is made.
/// </summary>
public static class SiloTracing
{
    /// <summary>The service's activity sources, and Orleans' grain calls (its runtime's own calls, membership and the like, are left out).</summary>
    public static readonly string[] Sources = [EdgeTracing.SourceName, GrainTracing.SourceName, Orleans.Diagnostics.ActivitySources.ApplicationGrainActivitySourceName];

    public static void AddKeyProxyTracing(this WebApplicationBuilder builder, KeyProxySiloOptions options)
    {
        var tracing = options.Tracing;
        if (!tracing.Enabled) return;
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("keyproxy-silo", serviceInstanceId: options.EffectiveEdgeId))
            .WithTracing(t =>
            {
                t.AddSource(Sources);
                t.SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(tracing.SampleRatio)));
                if (tracing.OtlpEndpoint is { } endpoint)
                {
                    t.AddOtlpExporter(otlp =>
                    {
                        otlp.Protocol = tracing.OtlpProtocol == "grpc" ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
                        otlp.Endpoint = ExportUri(endpoint, otlp.Protocol);
                    });
                }
            });
    }

    /// <summary>
    /// The collector's address as given, and for OTLP/HTTP with no path its traces path (<c>/v1/traces</c>): an endpoint set
    /// in code is used as it is, unlike the OTEL_EXPORTER_OTLP_ENDPOINT variable, to which the exporter appends the path.
    /// </summary>
    internal static Uri ExportUri(string endpoint, OtlpExportProtocol protocol)
    {
        var uri = new Uri(endpoint);
        return protocol == OtlpExportProtocol.HttpProtobuf && uri.AbsolutePath == "/" ? new Uri(uri, "v1/traces") : uri;
    }

    /// <summary>Trace context through grain calls (W3C traceparent in the request context), when tracing is on.</summary>
    public static void AddKeyProxyTracing(this ISiloBuilder silo, KeyProxySiloOptions options)
    {
        if (options.Tracing.Enabled) silo.AddActivityPropagation();
    }
}
