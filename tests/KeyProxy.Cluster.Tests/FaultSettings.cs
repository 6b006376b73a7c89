namespace KeyProxy.Cluster.Tests;

/// <summary>
/// Issue 15, the bound on an SA left on one side only after a silo dies (docs/SECURITY.md, "Faults: the bound"), from the
/// settings below with D the failure detection (about 1-3 s here, asserted at most 10 s; up to 25 s seen under CI's load):
/// <list type="bullet">
/// <item>a handset whose own proxy session died, its subscriber alive: the subscriber finds the session gone at its first
/// audit once the silo is declared dead: D + one audit interval (2 s) + a probe of the dead silo that may wait out its
/// timeout before (5 s);</item>
/// <item>the same with its subscriber dead too (both on the killed silo): the subscriber's reminder, held since the session
/// began, ticks on a live silo within its period (2 s) once D has passed, and the new activation audits the durable session
/// record after one audit interval (2 s): D + 4 s;</item>
/// <item>the other handset, whose session lives but whose IKE peer died: its session's liveness check after the
/// interval of silence (3 s) and 5 transmissions answered by none (waits of 0.5, 0.9, 1.6, 2.9 and 5.2 s: back-off 1.8,
/// about 11 s), or sooner when the next exchange with that peer comes with INITIAL_CONTACT.</item>
/// </list>
/// So within D + 7 s of the kill on one side and 3 + 11 s after the last exchange on the other; the tests wait 20 s (the
/// core kill) and 60 s (the edge kill, whose restart and re-attach come first). The transmissions must outlast failure
/// detection: an exchange whose other half was placed on the killed silo is answered only once the silo is declared dead
/// and the session activates elsewhere (a budget of 3 transmissions, about 3 s, lost to a detection of 3.25 s on a busy
/// machine, and the handset got a refusal instead of an SA). With the product's defaults (audit 10 s, reminder 1 min;
/// liveness 2 min, 6 transmissions from 2 s, about 83 s of retransmission): D + 15 s, D + 70 s and about 3.4 minutes.
/// </summary>
internal static class FaultSettings
{
    /// <summary>Short session leases and reminders, and dead IKE peers noticed within seconds, so that one-sided SAs end within a test.</summary>
    public static readonly Dictionary<string, string> ShortLeases = new()
    {
        ["KeyProxy__Network__SessionAuditInterval"] = "00:00:02",
        ["KeyProxy__Network__PendingDeleteRetry"] = "00:00:02",
        ["KeyProxy__Network__LivenessInterval"] = "00:00:03",
        ["KeyProxy__Network__RetransmitTimeout"] = "00:00:00.5",
        ["KeyProxy__Network__MaxTransmissions"] = "5",
    };
}
