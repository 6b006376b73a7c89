using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace KeyProxy.Silo.Security;

/// <summary>
/// Requests the admin listener refused for want of authentication or a role (issue 16 item 1), by reason: counted on the
/// meter "KeyProxy.Silo" as <c>keyproxy.admin.auth.refusals</c> (Prometheus <c>keyproxy_admin_auth_refusals_total</c>,
/// labels <c>reason</c> and <c>http.response.status_code</c>) and, per silo, in <see cref="Count(string)"/>.
/// </summary>
public sealed class AdminAuthRefusals
{
    /// <summary>No bearer token (and no dashboard cookie): 401.</summary>
    public const string Missing = "missing";
    public const string Expired = "expired";
    public const string NotYetValid = "not_yet_valid";
    /// <summary>Signed by no configured key (forged, or an unknown key id): 401.</summary>
    public const string BadSignature = "bad_signature";
    public const string WrongAudience = "wrong_audience";
    public const string WrongIssuer = "wrong_issuer";
    /// <summary>Not a JWT, unsigned, or without <c>exp</c>: 401.</summary>
    public const string Malformed = "malformed";
    /// <summary>A valid token without the role the request needs: 403.</summary>
    public const string WrongRole = "wrong_role";
    /// <summary>A connection to the HTTPS listener that carried no HTTP request: the TLS handshake failed (plaintext HTTP, an untrusting client) or a bare probe.</summary>
    public const string TlsFailed = "tls_failed";

    private static readonly Meter Meter = new(Telemetry.AdminApiMetrics.MeterName);

    private static readonly Counter<long> Refusals = Meter.CreateCounter<long>("keyproxy.admin.auth.refusals", "{request}",
        "Admin API, dashboard and metrics requests refused for a missing or bad token (401), a missing role (403) or a failed TLS handshake, by reason");

    private readonly ConcurrentDictionary<string, long> _counts = new();

    /// <summary>Refusals of this silo for <paramref name="reason"/> since it started.</summary>
    public long Count(string reason) => _counts.GetValueOrDefault(reason);

    /// <summary>Refusals of this silo, every reason.</summary>
    public long Total => _counts.Values.Sum();

    public void Add(string reason, int status)
    {
        _counts.AddOrUpdate(reason, 1, (_, n) => n + 1);
        Refusals.Add(1, new("reason", reason), new("http.response.status_code", status));
    }
}
