using System.Net;

namespace KeyProxy.Edge;

/// <summary>
/// One edge's settings (configuration section "KeyProxy:Edge"): where handsets reach it, the
/// addresses it gives them, and its admission limits. The ports it binds on each handset address and
/// the half-open timeout are the cluster's (<see cref="KeyProxy.Abstractions.ProxyNetworkOptions"/>):
/// the proxy sessions must use the same.
/// </summary>
public sealed class EdgeOptions
{
    public const string Section = "KeyProxy:Edge";

    /// <summary>The edge's name; also its silo's name, so grains can find it (set by the host).</summary>
    public string EdgeId { get; set; } = "";

    /// <summary>The UDP endpoint handsets attach to.</summary>
    public string AccessEndpoint { get; set; } = "127.0.0.1:7400";

    /// <summary>
    /// The handsets' addresses (CIDR). With the socket path, any 127.x prefix works on one machine without set-up, and in
    /// a real deployment a prefix routed to this edge (bound with IP_FREEBIND). With the TUN path, a prefix outside
    /// 127.0.0.0/8 that the edge routes to its TUN device itself.
    /// </summary>
    public string AddressPool { get; set; } = "127.0.1.0/24";

    /// <summary>How the edge sends and receives as its handsets' addresses: sockets per handset (the default) or one TUN device for the pool.</summary>
    public EdgePacketPath PacketPath { get; set; } = EdgePacketPath.Sockets;

    /// <summary>The TUN device's name (<see cref="EdgePacketPath.Tun"/>); "%d" lets the kernel number it.</summary>
    public string TunName { get; set; } = "kp%d";

    /// <summary>TUN queues (IFF_MULTI_QUEUE above 1), each with its descriptor and reader thread.</summary>
    public int TunQueues { get; set; } = 1;

    /// <summary>
    /// The TUN device's MTU. The largest by default, so the kernel never fragments a packet it routes into the device (a
    /// big IKE message from a local peer); packets that arrive fragmented from elsewhere are dropped and counted.
    /// </summary>
    public int TunMtu { get; set; } = 65535;

    /// <summary>
    /// Datagrams per system call on the access socket (Linux recvmmsg/sendmmsg): received at once from every handset's
    /// tunnel, and sent at once towards the handsets from one TUN read burst. 1 for one datagram per call (no batching).
    /// </summary>
    public int IoBatch { get; set; } = 32;

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

    /// <summary>Every problem with these settings, named as in the configuration; empty when the edge can start.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        // IPEndPoint.TryParse takes a bare address as port 0: the port must be written (0 picks a free one).
        if (!IPEndPoint.TryParse(AccessEndpoint ?? "", out _) || AccessEndpoint!.LastIndexOf(':') <= AccessEndpoint.LastIndexOf(']'))
            errors.Add($"{Section}:AccessEndpoint '{AccessEndpoint}' is not an address:port such as 127.0.0.1:7400");
        if (!KeyProxy.Abstractions.NetworkPrefix.TryParse(AddressPool, out _, out var poolError))
            errors.Add($"{Section}:AddressPool {poolError}");
        if (PacketPath == EdgePacketPath.Tun)
        {
            if (KeyProxy.Abstractions.NetworkPrefix.TryParse(AddressPool, out var pool, out _)
                && (IPAddress.IsLoopback(pool.BaseAddress) || pool.BaseAddress.GetAddressBytes()[0] == 127))
                errors.Add($"{Section}:AddressPool {AddressPool} is loopback: with PacketPath=Tun the pool is routed to a TUN device, where the kernel drops 127.0.0.0/8 as martian; use a prefix such as 100.64.0.0/16");
            if (string.IsNullOrWhiteSpace(TunName) || TunName.Length > 15 || TunName.Any(c => c <= ' ' || c == '/' || c > '~'))
                errors.Add($"{Section}:TunName '{TunName}' is not an interface name of at most 15 characters");
            if (TunQueues is < 1 or > 64) errors.Add($"{Section}:TunQueues {TunQueues} is not between 1 and 64");
            if (TunMtu is < 1280 or > 65535) errors.Add($"{Section}:TunMtu {TunMtu} is not between 1280 and 65535");
        }
        if (IoBatch is < 1 or > 1024) errors.Add($"{Section}:IoBatch {IoBatch} is not between 1 and 1024");
        AtLeast(nameof(MaxPendingAttaches), MaxPendingAttaches, 1, errors);
        Positive(nameof(AttachTimeout), AttachTimeout, errors);
        AtLeast(nameof(CookieThreshold), CookieThreshold, 0, errors);
        AtLeast(nameof(MaxHalfOpen), MaxHalfOpen, 1, errors);
        AtLeast(nameof(MaxHalfOpenPerPeer), MaxHalfOpenPerPeer, 1, errors);
        Positive(nameof(CookieSecretLifetime), CookieSecretLifetime, errors);
        Rate(nameof(CookieAnswersPerSecond), CookieAnswersPerSecond, errors);
        AtLeast(nameof(CookieAnswerBurst), CookieAnswerBurst, 1, errors);
        Rate(nameof(ProxyRequestsPerSecond), ProxyRequestsPerSecond, errors);
        AtLeast(nameof(ProxyRequestBurst), ProxyRequestBurst, 1, errors);
        return errors;
    }

    private static void AtLeast(string name, int value, int least, List<string> errors)
    {
        if (value < least) errors.Add($"{Section}:{name} {value} is below {least}");
    }

    private static void Positive(string name, TimeSpan value, List<string> errors)
    {
        if (value <= TimeSpan.Zero) errors.Add($"{Section}:{name} {value} is not a positive time");
    }

    private static void Rate(string name, double value, List<string> errors)
    {
        if (!(value > 0) || double.IsInfinity(value)) errors.Add($"{Section}:{name} {value} is not a positive rate");
    }

    /// <summary>The edge's bucket of COOKIE answers, full at <paramref name="now"/> (seconds on a monotonic clock).</summary>
    public Admission.TokenBucket NewCookieAnswerBucket(double now) => new(CookieAnswersPerSecond, CookieAnswerBurst, now);
}
