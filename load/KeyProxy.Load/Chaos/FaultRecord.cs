namespace KeyProxy.Load.Chaos;

/// <summary>The faults the injector makes.</summary>
public enum FaultKind
{
    /// <summary>SIGKILL of a silo, then the same silo started again.</summary>
    Kill,

    /// <summary>Azurite stopped, then started again on the same ports and data directory.</summary>
    Storage,

    /// <summary>A silo cut off from the other silos (both ways) for a while, then healed; started again if it stopped.</summary>
    Isolate,
}

/// <summary>
/// One fault as it happened and what it cost: times are UTC; the costs are filled after it from the soak's
/// observations within its window (from its start to its end plus the one-sided bound).
/// </summary>
public sealed class FaultRecord(int number, FaultKind kind, string target)
{
    public int Number { get; } = number;

    public FaultKind Kind { get; } = kind;

    /// <summary>The silo, or "azurite".</summary>
    public string Target { get; } = target;

    public DateTimeOffset Start { get; set; }

    /// <summary>When the fault was over: the silo ready again, storage answering, the cut removed (and the silo ready if it had to start again).</summary>
    public DateTimeOffset End { get; set; }

    /// <summary>How long the fault was held: the outage or isolation (kills: 0).</summary>
    public TimeSpan Held { get; set; }

    /// <summary>Membership: the silo's row of that generation seen Dead (by a surviving silo's dashboard) after the start; null when never seen.</summary>
    public TimeSpan? Detection { get; set; }

    /// <summary>The isolated silo's process ended by itself (it learned it was declared dead) before the cut was removed.</summary>
    public bool StoppedItself { get; set; }

    /// <summary>Proxy requests sent again (handset retransmissions) within the window.</summary>
    public long ExchangesRetried { get; set; }

    /// <summary>SAs at a handset that were without their other half at some time within the window, and the longest such time.</summary>
    public int OneSidedSas { get; set; }

    public TimeSpan OneSidedLongest { get; set; }

    /// <summary>ESP echoes that got no answer within the window (each a datagram or its echo lost).</summary>
    public long EspLost { get; set; }

    /// <summary>Proxy requests (flows 1 and 2) that failed within the window, by outcome.</summary>
    public long ExchangesFailed { get; set; }

    /// <summary>Provisioning PUTs that failed within the window.</summary>
    public long ProvisionsFailed { get; set; }

    /// <summary>The end of the fault's window: its end plus the bound, or the next fault's start if sooner.</summary>
    public DateTimeOffset WindowEnd { get; set; }

    /// <summary>What went wrong running the fault itself (a silo that would not start again), or null.</summary>
    public string? Error { get; set; }

    public string Note { get; set; } = "";
}
