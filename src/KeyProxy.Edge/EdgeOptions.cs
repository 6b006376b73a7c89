using System.Net;

namespace KeyProxy.Edge;

/// <summary>
/// One edge's settings (configuration section "KeyProxy:Edge"): where handsets reach it, the
/// addresses it gives them, and the ports it binds on each of those addresses on the network side.
/// </summary>
public sealed class EdgeOptions
{
    public const string Section = "KeyProxy:Edge";

    /// <summary>The edge's name; also its silo's name, so grains can find it (set by the host).</summary>
    public string EdgeId { get; set; } = "";

    /// <summary>The UDP endpoint handsets attach to.</summary>
    public string AccessEndpoint { get; set; } = "127.0.0.1:7400";

    /// <summary>
    /// The handsets' addresses (CIDR). On one machine, any 127.x prefix works without set-up; in a
    /// real deployment, a prefix routed to this edge (bound with IP_FREEBIND).
    /// </summary>
    public string AddressPool { get; set; } = "127.0.1.0/24";

    /// <summary>Network-side ports bound on every attached handset's address (RFC 7296 2.23, RFC 3948).</summary>
    public int HandsetIkePort { get; set; } = 500;

    public int HandsetNatTPort { get; set; } = 4500;

    /// <summary>Attach challenges waiting for their response, at most (older ones are dropped first).</summary>
    public int MaxPendingAttaches { get; set; } = 4096;

    /// <summary>How long a challenge stays valid.</summary>
    public TimeSpan AttachTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Half-open responder sessions (started for a peer's IKE_SA_INIT, IKE SA not yet established) from
    /// which on a new IKE_SA_INIT must return a cookie (RFC 7296 2.6) before the edge starts a session.
    /// </summary>
    public int CookieThreshold { get; set; } = 32;

    /// <summary>Half-open responder sessions at this edge, at most; further IKE_SA_INITs are dropped.</summary>
    public int MaxHalfOpen { get; set; } = 1024;

    /// <summary>Half-open responder sessions for one peer address, at most; further IKE_SA_INITs from it are dropped.</summary>
    public int MaxHalfOpenPerPeer { get; set; } = 64;

    /// <summary>A responder session that has not reported its IKE SA established after this long no longer counts as half-open.</summary>
    public TimeSpan HalfOpenTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long one cookie secret is used before it rotates (cookies of the previous secret stay valid).</summary>
    public TimeSpan CookieSecretLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// COOKIE answers (RFC 7296 2.6) this edge sends per second, on average, over all its handsets (token bucket).
    /// Stateless and small, but an IKE_SA_INIT with a forged source makes each one a reflection towards a victim:
    /// above this rate the IKE_SA_INIT is dropped unanswered (<see cref="EdgeDropReason.CookieRateLimited"/>).
    /// </summary>
    public double CookieAnswersPerSecond { get; set; } = 1000;

    /// <summary>COOKIE answers this edge may send at once (the bucket's size).</summary>
    public int CookieAnswerBurst { get; set; } = 2000;

    /// <summary>Proxy requests one handset may make per second, on average (token bucket).</summary>
    public double ProxyRequestsPerSecond { get; set; } = 10;

    /// <summary>Proxy requests one handset may make at once (the bucket's size).</summary>
    public int ProxyRequestBurst { get; set; } = 20;

    public IPEndPoint ParsedAccessEndpoint => IPEndPoint.Parse(AccessEndpoint);

    /// <summary>The edge's bucket of COOKIE answers, full at <paramref name="now"/> (seconds on a monotonic clock).</summary>
    public Admission.TokenBucket NewCookieAnswerBucket(double now) => new(CookieAnswersPerSecond, CookieAnswerBurst, now);
}
