using System.Collections.Concurrent;
using System.Net;
using KeyProxy.Handset;
using KeyProxy.Load.Scenarios;

namespace KeyProxy.Load.Chaos;

/// <summary>An SA pair installed at a handset, as its SaInstalled told it; <see cref="Superseded"/> once a rekey replaced it (it only drains then).</summary>
public sealed record HandsetSa(uint InboundSpi, uint OutboundSpi, IPAddress Peer, DateTimeOffset InstalledAt)
{
    public bool Superseded { get; set; }
}

/// <summary>
/// One subscriber of the soak: its handset at edge A and its handset at edge B (two instances of one identity; the
/// subscriber roams by detaching one and attaching the other), which of them is the current one, a gate so a roam and
/// an exchange do not overlap, and the SAs each instance holds (kept from the handset's own events).
/// </summary>
public sealed class ChaosHandset
{
    private readonly SimulatedHandset?[] _instances;
    private readonly ConcurrentDictionary<uint, HandsetSa>[] _sas = [new(), new()];
    private readonly Action<ChaosHandset, HandsetEvent, DateTimeOffset> _events;
    private int _attachments;

    public ChaosHandset(string nai, string group, SimulatedHandset? atA, SimulatedHandset? atB, int current, Action<ChaosHandset, HandsetEvent, DateTimeOffset> events)
    {
        Nai = nai;
        Group = group;
        _instances = [atA, atB];
        Current = current;
        _events = events;
        for (int i = 0; i < 2; i++)
        {
            int instance = i;
            if (_instances[i] is { } h) h.Observer = (_, e) => OnEvent(instance, e);
        }
    }

    public string Nai { get; }

    /// <summary>flow-1 (initiates, roams, echoes) or flow-2 (peers initiate towards it).</summary>
    public string Group { get; }

    /// <summary>0: the instance at edge A is the subscriber's handset; 1: the one at B.</summary>
    public int Current { get; private set; }

    public SimulatedHandset Handset => _instances[Current]!;

    public SimulatedHandset? Other => _instances[1 - Current];

    public string EdgeName => Current == 0 ? "edge-a" : "edge-b";

    /// <summary>Held by whoever uses the handset (an exchange, an echo, a roam) so they do not overlap.</summary>
    public SemaphoreSlim Busy { get; } = new(1, 1);

    /// <summary>Attached events so far, over both instances: a request that outlives an attachment was not the edge's to answer.</summary>
    public int Attachments => Volatile.Read(ref _attachments);

    /// <summary>The SAs the instances hold now (both: a detaching instance may still hold some).</summary>
    public IEnumerable<(int Instance, HandsetSa Sa)> Sas()
    {
        for (int i = 0; i < 2; i++)
            foreach (var sa in _sas[i].Values) yield return (i, sa);
    }

    /// <summary>Whether the current instance holds an SA with <paramref name="peer"/>.</summary>
    public bool HasSaWith(IPAddress peer)
    {
        foreach (var sa in _sas[Current].Values)
            if (sa.Peer.Equals(peer)) return true;
        return false;
    }

    /// <summary>An SA of the current instance that is not draining, or null.</summary>
    public HandsetSa? AnyLiveSa()
    {
        foreach (var sa in _sas[Current].Values)
            if (!sa.Superseded) return sa;
        return null;
    }

    /// <summary>The other instance becomes the subscriber's handset (after the current one detached).</summary>
    public void SwitchInstance()
    {
        Handset.Retire();
        Current = 1 - Current;
        Handset.Reinstate();
    }

    private void OnEvent(int instance, HandsetEvent e)
    {
        var now = DateTimeOffset.UtcNow;
        var sas = _sas[instance];
        switch (e)
        {
            case SaInstalled s:
                if (s.Replaces != 0 && sas.TryGetValue(s.Replaces, out var old)) old.Superseded = true;
                sas[s.InboundSpi] = new HandsetSa(s.InboundSpi, s.OutboundSpi, s.Peer, now);
                break;
            case SaRemoved r:
                sas.TryRemove(r.InboundSpi, out _);
                break;
            case Attached:
                Interlocked.Increment(ref _attachments);
                break;
            case AttachmentLost or Detached:
                // The handset removed every SA (SaRemoved each); nothing may linger in the ledger.
                sas.Clear();
                break;
        }
        _events(this, e, now);
    }
}
