using KeyProxy.Silo.Telemetry;
using OpenTelemetry.Exporter;

namespace KeyProxy.Silo.Tests;

/// <summary>"KeyProxy:Tracing" and "KeyProxy:Logging" (issue 20 item 3): off and plain text by default, every bad value named.</summary>
public class TracingOptionsTests
{
    [Fact]
    public void Tracing_is_off_and_logs_are_text_by_default()
    {
        var options = new KeyProxySiloOptions();
        Assert.False(options.Tracing.Enabled);
        Assert.Null(options.Tracing.OtlpEndpoint);
        Assert.False(options.Logging.IsJson);
        Assert.Empty(options.Validate());
    }

    [Fact]
    public void Every_bad_tracing_or_logging_value_is_named()
    {
        var options = new KeyProxySiloOptions
        {
            Tracing = new TracingOptions { OtlpEndpoint = "127.0.0.1:4317", OtlpProtocol = "udp", SampleRatio = 1.5 },
            Logging = new LoggingOptions { Format = "Xml" },
        };
        var errors = options.Validate();
        Assert.Contains("KeyProxy:Tracing:OtlpEndpoint '127.0.0.1:4317' is not an http:// or https:// URL", errors);
        Assert.Contains("KeyProxy:Tracing:OtlpEndpoint is set but KeyProxy:Tracing:Enabled is not true", errors);
        Assert.Contains("KeyProxy:Tracing:OtlpProtocol 'udp' is not 'grpc' or 'http/protobuf'", errors);
        Assert.Contains("KeyProxy:Tracing:SampleRatio 1.5 is not between 0 and 1", errors);
        Assert.Contains("KeyProxy:Logging:Format is 'Xml'; expected 'Text' or 'Json'", errors);

        options.Tracing = new TracingOptions { Enabled = true, OtlpEndpoint = "http://127.0.0.1:4318", OtlpProtocol = "http/protobuf", SampleRatio = 0.25 };
        options.Logging = new LoggingOptions { Format = "json" };
        Assert.Empty(options.Validate());
        Assert.True(options.Logging.IsJson);
    }

    [Fact]
    public void An_otlp_http_endpoint_without_a_path_gets_the_traces_path_and_any_other_is_kept()
    {
        Assert.Equal("http://127.0.0.1:4318/v1/traces", SiloTracing.ExportUri("http://127.0.0.1:4318", OtlpExportProtocol.HttpProtobuf).ToString());
        Assert.Equal("http://collector:4318/custom/traces", SiloTracing.ExportUri("http://collector:4318/custom/traces", OtlpExportProtocol.HttpProtobuf).ToString());
        Assert.Equal("http://127.0.0.1:4317/", SiloTracing.ExportUri("http://127.0.0.1:4317", OtlpExportProtocol.Grpc).ToString());
    }
}
