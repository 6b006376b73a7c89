using System.Collections.Concurrent;
using System.Net;
using KeyProxy.Load.Peers;

namespace KeyProxy.Load.Chaos;

/// <summary>One invariant broken once: which, when (UTC), and the evidence (handset, SPIs, peer, outcome).</summary>
public sealed record Breach(string Invariant, DateTimeOffset At, string Detail);

/// <summary>A time an SA at a handset was without its other half at the peer (ended, or still open at the end).</summary>
public sealed record OneSidedEpisode(string Nai, uint InboundSpi, uint OutboundSpi, IPAddress Peer, DateTimeOffset Start, DateTimeOffset End);

/// <summary>
/// The soak's invariants, checked all along and at the end; every breach is counted and makes the command fail:
/// <list type="bullet">
/// <item><c>sa-halves</c>: every SA at a handset (not one a rekey replaced, which only drains) has its other half at its
/// peer (the peer holds a CHILD_SA whose inbound SPI is the handset's outbound one and whose outbound SPI is the
/// handset's inbound one) within <see cref="ChaosSettings.OneSidedBound"/>; checked every second;</item>
/// <item><c>proxy-answered</c>: every proxy request of a handset that stayed attached got an SA or a refusal with a reason
/// within <see cref="ChaosSettings.ProxyAnswerBound"/> (the handset's own retry budget);</item>
/// <item><c>key-transfers-replayed</c>: no handset saw a key transfer with a counter it had seen (its own counter,
/// <c>KeyTransfersReplayed</c>);</item>
/// <item><c>profiles-lost</c>: every profile the admin API acknowledged is readable at the end;</item>
/// <item><c>idle-level</c>: after the load, edge routes and attachments 0, proxy session activations back to the idle
/// count, each edge's GC heap within one gen0 budget of its idle size.</item>
/// </list>
/// </summary>
public sealed class Invariants
{
    private readonly ConcurrentQueue<Breach> _breaches = new();
    private readonly Dictionary<(string Nai, uint Inbound), (OneSidedEpisode Episode, bool Breached)> _open = [];
    private readonly List<OneSidedEpisode> _closed = [];
    private readonly Lock _gate = new();
    private readonly IReadOnlyDictionary<IPAddress, EspEcho> _peers;
    private readonly TimeSpan _bound;

    public Invariants(IReadOnlyDictionary<IPAddress, EspEcho> peers, TimeSpan bound)
    {
        _peers = peers;
        _bound = bound;
    }

    public IReadOnlyCollection<Breach> Breaches => _breaches;

    /// <summary>SA checks made (handset SAs looked at, over all checks).</summary>
    public long SasChecked { get; private set; }

    public void Add(string invariant, string detail, DateTimeOffset? at = null) => _breaches.Enqueue(new Breach(invariant, at ?? DateTimeOffset.UtcNow, detail));

    /// <summary>Every episode so far, the open ones ending now.</summary>
    public IReadOnlyList<OneSidedEpisode> Episodes(DateTimeOffset now)
    {
        lock (_gate)
        {
            var all = new List<OneSidedEpisode>(_closed);
            foreach (var (episode, _) in _open.Values) all.Add(episode with { End = now });
            return all;
        }
    }

    /// <summary>SAs one-sided now.</summary>
    public int OpenCount
    {
        get { lock (_gate) return _open.Count; }
    }

    /// <summary>Checks every handset SA against its peer; opens, closes and (past the bound) breaches one-sided episodes.</summary>
    public void CheckSaHalves(IEnumerable<ChaosHandset> handsets, DateTimeOffset now)
    {
        var seen = new HashSet<(string, uint)>();
        lock (_gate)
        {
            foreach (var h in handsets)
            {
                foreach (var (_, sa) in h.Sas())
                {
                    if (sa.Superseded) continue;
                    SasChecked++;
                    var key = (h.Nai, sa.InboundSpi);
                    bool matched = _peers.TryGetValue(sa.Peer, out var peer) && peer.TryGetOutboundSpi(sa.OutboundSpi, out uint back) && back == sa.InboundSpi;
                    if (matched) continue;
                    seen.Add(key);
                    if (!_open.TryGetValue(key, out var open))
                    {
                        _open[key] = (new OneSidedEpisode(h.Nai, sa.InboundSpi, sa.OutboundSpi, sa.Peer, now, now), false);
                        continue;
                    }
                    if (!open.Breached && now - open.Episode.Start > _bound)
                    {
                        _open[key] = (open.Episode, true);
                        Add("sa-halves", $"{h.Nai} at {h.EdgeName} holds SA in {sa.InboundSpi:x8} out {sa.OutboundSpi:x8} with peer {sa.Peer} "
                            + $"(installed {sa.InstalledAt:HH:mm:ss.fff}) without its other half since {open.Episode.Start:HH:mm:ss.fff}, over {_bound.TotalSeconds:F0} s", now);
                    }
                }
            }
            // Episodes whose SA is now matched or gone at the handset end here.
            foreach (var key in _open.Keys.Where(k => !seen.Contains(k)).ToList())
            {
                _closed.Add(_open[key].Episode with { End = now });
                _open.Remove(key);
            }
        }
    }
}
