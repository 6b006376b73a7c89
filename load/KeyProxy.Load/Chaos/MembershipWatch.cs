using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using KeyProxy.Load.Scenarios;

namespace KeyProxy.Load.Chaos;

/// <summary>
/// The cluster's membership as a running silo's dashboard reads it from the membership table
/// (<c>/dashboard/DashboardCounters</c>, hosts with address, name and status; the dashboard leaves Dead silos out),
/// polled every half second from a silo other than <see cref="Avoid"/>: for each silo address
/// (address:port@generation) when it was first seen, and when a poll first found it no longer Active (Dead, or left
/// out). That is the soak's detection time of a killed or isolated silo.
/// </summary>
public sealed class MembershipWatch : IAsyncDisposable
{
    private readonly ChaosCluster _cluster;
    private readonly ConcurrentDictionary<string, Row> _rows = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    /// <summary>A silo address's history.</summary>
    public sealed record Row(string Address, string Name, DateTimeOffset FirstSeen)
    {
        public string Status { get; set; } = "";

        /// <summary>Each poll's verdict: listed Active or not, in order (under the row's lock).</summary>
        public List<(DateTimeOffset At, bool Active)> Samples { get; } = [];

        /// <summary>The first poll at or after <paramref name="since"/> that found the address not Active, confirmed by the next poll; null when none.</summary>
        public DateTimeOffset? GoneAfter(DateTimeOffset since)
        {
            lock (Samples)
                for (int i = 0; i + 1 < Samples.Count; i++)
                    if (Samples[i].At >= since && !Samples[i].Active && !Samples[i + 1].Active) return Samples[i].At;
            return null;
        }
    }

    public MembershipWatch(ChaosCluster cluster)
    {
        _cluster = cluster;
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>A silo not to ask (the one cut off: it may still list itself Active).</summary>
    public string? Avoid { get; set; }

    /// <summary>Polls that got no answer from any silo.</summary>
    public long Unanswered { get; private set; }

    /// <summary>The generation of <paramref name="silo"/> seen Active most recently, or null.</summary>
    public Row? Current(string silo)
    {
        Row? best = null;
        foreach (var r in _rows.Values)
            if (r.Name == silo && r.Status == "Active" && (best is null || r.FirstSeen > best.FirstSeen)) best = r;
        return best;
    }

    /// <summary>When <paramref name="row"/>'s address was first found no longer Active from <paramref name="since"/> on (waits up to <paramref name="timeout"/>), or null.</summary>
    public async Task<DateTimeOffset?> DeadAtAsync(Row row, DateTimeOffset since, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (DateTimeOffset.UtcNow < deadline && !ct.IsCancellationRequested)
        {
            if (row.GoneAfter(since) is { } at) return at;
            try { await Task.Delay(250, ct); } catch (OperationCanceledException) { break; }
        }
        return row.GoneAfter(since);
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            if (await ReadAsync(_stop.Token) is { } hosts)
            {
                var now = DateTimeOffset.UtcNow;
                var active = new HashSet<string>();
                foreach (var h in hosts)
                {
                    var address = (string?)h?["siloAddress"];
                    if (address is null) continue;
                    var row = _rows.GetOrAdd(address, a => new Row(a, (string?)h!["siloName"] ?? "?", now));
                    row.Status = (string?)h!["status"] ?? "";
                    if (row.Status == "Active") active.Add(address);
                }
                foreach (var row in _rows.Values)
                {
                    bool isActive = active.Contains(row.Address);
                    lock (row.Samples) row.Samples.Add((now, isActive));
                    if (!isActive && row.Status == "Active") row.Status = "gone";
                }
            }
            else Unanswered++;
            try { await Task.Delay(500, _stop.Token); } catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>The hosts list of the first running silo that answers.</summary>
    private async Task<JsonArray?> ReadAsync(CancellationToken ct)
    {
        foreach (var silo in _cluster.Silos)
        {
            if (silo.Name == Avoid || !_cluster.IsRunning(silo.Name)) continue;
            try
            {
                using var http = LoadCredentials.Client(silo.Api, TimeSpan.FromSeconds(2));
                var counters = JsonNode.Parse(await http.GetStringAsync("dashboard/DashboardCounters", ct));
                if (counters?["hosts"] is JsonArray hosts) return hosts;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException or InvalidOperationException)
            {
            }
        }
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        try { await _loop; } catch (OperationCanceledException) { }
        _stop.Dispose();
    }
}
