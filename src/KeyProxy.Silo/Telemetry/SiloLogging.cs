using Microsoft.Extensions.Logging.Console;

namespace KeyProxy.Silo.Telemetry;

/// <summary>
/// The silo's console log (issue 20 item 3): every record carries the current trace and span ids (logging's
/// <see cref="ActivityTrackingOptions"/>: a scope, so an exchange's lines can be found by the trace id of its spans), and
/// with <c>KeyProxy:Logging:Format=Json</c> the console writes one JSON object per line, scopes included. The plain text
/// format prints scopes (a "=> SpanId:..., TraceId:..." line under a record) only when tracing is on, so that its default
/// output stays as it was.
/// </summary>
public static class SiloLogging
{
    public static void AddKeyProxyLogging(this WebApplicationBuilder builder, KeyProxySiloOptions options)
    {
        builder.Logging.Configure(o => o.ActivityTrackingOptions =
            ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);
        if (!options.Logging.IsJson)
        {
            if (options.Tracing.Enabled) builder.Logging.AddSimpleConsole(o => o.IncludeScopes = true);
            return;
        }
        builder.Logging.AddJsonConsole(o =>
        {
            o.IncludeScopes = true;
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
        });
    }
}
