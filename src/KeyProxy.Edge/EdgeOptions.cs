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

    public IPEndPoint ParsedAccessEndpoint => IPEndPoint.Parse(AccessEndpoint);
}
