using System.Net;
using KeyProxy.Ike.Messages;
using KeyProxy.Ike.Protocol;
using KeyProxy.Load.Peers;

namespace KeyProxy.Load.Baselines;

/// <summary>
/// Many IKE initiators of our own engine in this process, as handsets doing their own IKE would run it: each
/// <see cref="IkeSession"/> is one handset's IKE SA, on one of a few socket pairs (IKE port and NAT-T port on a
/// loopback address), found again by its initiator SPI in every answer (RFC 7296 2.6). IKE on the NAT-T port
/// carries the non-ESP marker (RFC 3948 2.2); so does IKE on the IKE port when neither side uses 500 (as
/// <see cref="Peers.IkeResponderHost"/> does). Retransmissions run off one timer loop.
/// </summary>
public sealed class EngineInitiators : IAsyncDisposable
{
    private readonly UdpIkeEndpoint<Entry> _udp;
    private readonly IkeServices _services;

    private sealed class Entry(IkeSession session, int pair) : IUdpIkeEntry
    {
        public IkeSession Session { get; } = session;
        public readonly int Pair = pair;
        public readonly TaskCompletionSource<IkeEvent> Done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <param name="addresses">One socket pair per address.</param>
    public EngineInitiators(IReadOnlyList<IPAddress> addresses, int ikePort, int natTPort, IkeServices? services = null)
    {
        _services = services ?? IkeServices.Default;
        _udp = new UdpIkeEndpoint<Entry>(addresses, ikePort, natTPort, _services);
        _udp.Start(open: (_, _, _) => null, (_, entry, _) => Flush(entry));
    }

    public int Pairs => _udp.Pairs;

    /// <summary>Datagrams no session took.</summary>
    public long Dropped => _udp.Dropped;

    /// <summary>The IKE endpoint of pair <paramref name="pair"/> (a handset's own address and port).</summary>
    public IPEndPoint IkeEndPoint(int pair) => _udp.IkeEndPoint(pair);

    /// <summary>
    /// Runs one IKE SA on pair <paramref name="pair"/>: <paramref name="config"/> with its local endpoints replaced by
    /// the pair's; completes with <see cref="ChildSaEstablished"/> (IKE_AUTH's CHILD_SA), or the
    /// <see cref="IkeSaClosed"/> / <see cref="ChildSaFailed"/> that ended it. The session is then forgotten.
    /// </summary>
    public async Task<IkeEvent> EstablishAsync(IkeSessionConfig config, int pair, CancellationToken ct)
    {
        var session = IkeSession.CreateInitiator(config with { LocalEndpoint = _udp.IkeEndPoint(pair), LocalNatTraversalPort = _udp.NatTPort(pair) }, _services);
        var entry = new Entry(session, pair);
        lock (entry)
        {
            session.Start();
            if (!_udp.Sessions.TryAdd(session.InitiatorSpi, entry)) return new IkeSaClosed(IkeCloseReason.Local, Detail: "initiator SPI collision");
            Flush(entry);
        }
        try { return await entry.Done.Task.WaitAsync(ct); }
        finally { _udp.Sessions.TryRemove(session.InitiatorSpi, out _); }
    }

    /// <summary>Sends what the session produced and completes the entry on its outcome; under the entry's lock.</summary>
    private void Flush(Entry entry)
    {
        foreach (var output in entry.Session.TakeOutputs())
        {
            switch (output)
            {
                case SendDatagram d:
                    _udp.Send(entry.Pair, entry.Session.Config, d);
                    break;
                case ChildSaEstablished or IkeSaClosed or ChildSaFailed:
                    entry.Done.TrySetResult((IkeEvent)output);
                    break;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _udp.DisposeAsync();
        foreach (var (_, entry) in _udp.Sessions) entry.Done.TrySetCanceled();
    }
}
