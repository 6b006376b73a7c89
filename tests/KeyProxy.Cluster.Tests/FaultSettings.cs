namespace KeyProxy.Cluster.Tests;

/// <summary>
/// Issue 15, the bound on an SA left on one side only after a silo dies, derived from the settings below:
/// <list type="bullet">
/// <item>a handset whose own proxy session died: its subscriber finds the session gone at its next audit once the
/// silo is declared dead: failure detection (about 1-2 s here, asserted at most 10 s) + one audit interval (2 s);</item>
/// <item>the other handset, whose session lives but whose IKE peer died: its session's liveness check after the
/// interval of silence (3 s) and 3 transmissions answered by none (waits of 0.5, 0.9 and 1.6 s: back-off 1.8, about
/// 3 s), or sooner when the next exchange with that peer comes with INITIAL_CONTACT.</item>
/// </list>
/// So within 10 + 2 s of the kill at worst on one side and 3 + 3 s after the last exchange on the other; the tests
/// wait 20 s. With the product's defaults (audit 10 s; liveness 2 min, 6 transmissions from 2 s, about 83 s of
/// retransmission) the other side's sum is about 3.5 minutes: that case is the one issue 15 still has open.
/// </summary>
internal static class FaultSettings
{
    /// <summary>Short session leases and dead IKE peers noticed within seconds, so that one-sided SAs end within a test.</summary>
    public static readonly Dictionary<string, string> ShortLeases = new()
    {
        ["KeyProxy__Network__SessionAuditInterval"] = "00:00:02",
        ["KeyProxy__Network__LivenessInterval"] = "00:00:03",
        ["KeyProxy__Network__RetransmitTimeout"] = "00:00:00.5",
        ["KeyProxy__Network__MaxTransmissions"] = "3",
    };
}
