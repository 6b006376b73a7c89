using System.Diagnostics.Metrics;

namespace KeyProxy.Silo.Telemetry;

/// <summary>
/// Admin API calls by route template, method and status (meter "KeyProxy.Silo", <c>keyproxy.admin.requests</c>). The
/// route is the template (<c>/api/subscribers/{nai}</c>), never the path: a NAI does not become a label.
/// </summary>
public static class AdminApiMetrics
{
    public const string MeterName = "KeyProxy.Silo";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> Requests = Meter.CreateCounter<long>("keyproxy.admin.requests", "{request}",
        "Admin API requests answered, by route template, method and status code");

    /// <summary>Counts every request under /api once answered, after the exception handler set its status.</summary>
    public static IApplicationBuilder UseAdminApiMetrics(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (!context.Request.Path.StartsWithSegments("/api"))
        {
            await next(context);
            return;
        }
        // Read before: the exception handler clears the endpoint when it takes over.
        var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "unmatched";
        try { await next(context); }
        finally
        {
            Requests.Add(1, new("http.route", route), new("http.request.method", Method(context.Request.Method)),
                new("http.response.status_code", context.Response.StatusCode));
        }
    });

    /// <summary>Known methods by name, anything else as _OTHER (semantic conventions: bounded).</summary>
    private static string Method(string method) => method switch
    {
        "GET" or "PUT" or "POST" or "DELETE" or "HEAD" or "PATCH" or "OPTIONS" => method,
        _ => "_OTHER",
    };
}
