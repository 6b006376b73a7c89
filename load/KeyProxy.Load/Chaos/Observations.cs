using System.Collections.Concurrent;

namespace KeyProxy.Load.Chaos;

/// <summary>What the soak saw happen, with UTC times, so each fault's window can count its share afterwards.</summary>
public sealed class Observations
{
    /// <summary>The kinds of things counted.</summary>
    public enum Kind
    {
        /// <summary>A proxy request sent again by its handset (no answer to the earlier one in time).</summary>
        ProxyRetry,

        /// <summary>An ESP echo through an established SA not answered within its timeout.</summary>
        EspLost,

        /// <summary>An exchange (flow 1 or 2) that did not end in an SA at both ends.</summary>
        ExchangeFailed,

        /// <summary>A provisioning PUT that no silo acknowledged (refused, a server error after its retries, or no answer).</summary>
        ProvisionFailed,
    }

    private readonly ConcurrentQueue<(DateTimeOffset At, Kind Kind)> _events = new();

    public void Add(Kind kind) => _events.Enqueue((DateTimeOffset.UtcNow, kind));

    public long Count(Kind kind, DateTimeOffset from, DateTimeOffset to) =>
        _events.Count(e => e.Kind == kind && e.At >= from && e.At <= to);

    public long Count(Kind kind) => _events.Count(e => e.Kind == kind);
}
