namespace KeyProxy.Silo.Telemetry;

/// <summary>
/// "KeyProxy:Tracing" (issue 20 item 3): spans of each proxied exchange (edge, grain calls, IKE exchanges, key transfer),
/// exported over OTLP when an endpoint is set. Off by default: no listener, no span is made.
/// </summary>
public sealed class TracingOptions
{
    /// <summary>Make spans at all (and propagate trace context through grain calls); log lines then carry their trace ids.</summary>
    public bool Enabled { get; set; }

    /// <summary>An OTLP collector to export spans to (e.g. <c>http://127.0.0.1:4317</c>); unset: spans only reach the logs' trace ids.</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary><c>grpc</c> or <c>http/protobuf</c>.</summary>
    public string OtlpProtocol { get; set; } = "grpc";

    /// <summary>The share of new traces recorded, 0 to 1 (parent-based: a traced exchange is traced on every silo).</summary>
    public double SampleRatio { get; set; } = 1.0;

    public IEnumerable<string> Validate()
    {
        if (OtlpEndpoint is not null
            && (!Uri.TryCreate(OtlpEndpoint, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            yield return $"KeyProxy:Tracing:OtlpEndpoint '{OtlpEndpoint}' is not an http:// or https:// URL";
        if (OtlpEndpoint is not null && !Enabled)
            yield return "KeyProxy:Tracing:OtlpEndpoint is set but KeyProxy:Tracing:Enabled is not true";
        if (OtlpProtocol is not ("grpc" or "http/protobuf"))
            yield return $"KeyProxy:Tracing:OtlpProtocol '{OtlpProtocol}' is not 'grpc' or 'http/protobuf'";
        if (double.IsNaN(SampleRatio) || SampleRatio is < 0 or > 1)
            yield return $"KeyProxy:Tracing:SampleRatio {SampleRatio} is not between 0 and 1";
    }
}
