using System.Net;
using KeyProxy.Ike.Messages;
using KeyProxy.Ike.Protocol;
using KeyProxy.Primitives;

namespace KeyProxy.Load.Peers;

/// <summary>
/// A load peer that starts IKE: initiators of our own engine on one address, many IKE SAs at once (one
/// <see cref="IkeSession"/> per own initiator SPI, which every answer carries first, RFC 7296 3.1), on an
/// IKE port and a NAT-T port. On the NAT-T port IKE carries the non-ESP marker and anything else is ESP
/// in UDP (RFC 3948 2.2), counted and, with <see cref="Echo"/>, echoed.
/// </summary>
public sealed class IkeInitiatorHost : IAsyncDisposable
{
    private readonly UdpIkeEndpoint<Entry> _udp;
    private readonly IkeSessionConfig _config;
    private readonly IkeServices _services;
    private long _established, _childSas, _failed;

    /// <summary>One IKE SA: its session and who waits for its first CHILD_SA (guarded by the entry).</summary>
    private sealed class Entry(IkeSession session, TaskCompletionSource<ChildSa> done) : IUdpIkeEntry
    {
        public IkeSession Session { get; } = session;
        public readonly TaskCompletionSource<ChildSa> Done = done;
    }

    /// <param name="config">
    /// The initiators' configuration; its <see cref="IkeSessionConfig.LocalEndpoint"/> and
    /// <see cref="IkeSessionConfig.LocalNatTraversalPort"/> are bound, the remote endpoint, NAT-T port and
    /// remote selectors are given per <see cref="InitiateAsync"/>.
    /// </param>
    public IkeInitiatorHost(IkeSessionConfig config, IkeServices? services = null)
    {
        _config = config;
        _services = services ?? IkeServices.Default;
        _udp = new UdpIkeEndpoint<Entry>([config.LocalEndpoint.Address], config.LocalEndpoint.Port, config.LocalNatTraversalPort, _services);
        _udp.Start(open: (_, _, _) => null, Flush);
    }

    public IPAddress Address => _config.LocalEndpoint.Address;

    /// <summary>When set, the CHILD_SAs' ESP is decrypted and UDP inside it echoed back.</summary>
    public EspEcho? Echo { get => _udp.Echo; init => _udp.Echo = value; }

    /// <summary>IKE SAs established (IKE_AUTH done).</summary>
    public long Established => Interlocked.Read(ref _established);

    /// <summary>CHILD_SAs established.</summary>
    public long ChildSas => Interlocked.Read(ref _childSas);

    /// <summary>Initiations that ended without a CHILD_SA (closed: refused, timed out, failed authentication).</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>ESP-in-UDP packets received on the NAT-T port.</summary>
    public long EspPackets => _udp.EspPackets;

    /// <summary>Datagrams no session took.</summary>
    public long Dropped => _udp.Dropped;

    /// <summary>IKE SAs held now.</summary>
    public int Sessions => _udp.Sessions.Count;

    /// <summary>
    /// Starts an IKE SA towards <paramref name="remote"/> (its NAT-T port <paramref name="remoteNatTPort"/>) asking
    /// for a CHILD_SA to <paramref name="remoteSelectors"/>; completes with the CHILD_SA when IKE_AUTH is done,
    /// or faults with <see cref="IkeInitiationFailedException"/> when the IKE SA closes first.
    /// </summary>
    public Task<ChildSa> InitiateAsync(IPEndPoint remote, int remoteNatTPort, IReadOnlyList<TrafficSelector> remoteSelectors)
    {
        var config = _config with
        {
            RemoteEndpoint = remote,
            RemoteNatTraversalPort = remoteNatTPort,
            Child = _config.Child with { RemoteSelectors = remoteSelectors },
        };
        var session = IkeSession.CreateInitiator(config, _services);
        var entry = new Entry(session, new TaskCompletionSource<ChildSa>(TaskCreationOptions.RunContinuationsAsynchronously));
        lock (entry)
        {
            _udp.Sessions[session.InitiatorSpi] = entry;
            session.Start();
            Flush(session.InitiatorSpi, entry, null);
        }
        return entry.Done.Task;
    }

    /// <summary>Sends the session's datagrams and acts on its events; under the entry's lock.</summary>
    private void Flush(ulong spiI, Entry entry, UdpIkePath? path)
    {
        foreach (var output in entry.Session.TakeOutputs())
        {
            switch (output)
            {
                case SendDatagram d:
                    _udp.Send(0, entry.Session.Config, d);
                    break;
                case IkeSaEstablished:
                    Interlocked.Increment(ref _established);
                    break;
                case ChildSaEstablished c:
                    Interlocked.Increment(ref _childSas);
                    Echo?.Add(c.ChildSa);
                    entry.Done.TrySetResult(c.ChildSa);
                    break;
                case ChildSaDeleted d:
                    Echo?.Remove(d.InboundSpi);
                    break;
                case IkeSaClosed closed:
                    _udp.Sessions.TryRemove(spiI, out _);
                    if (entry.Done.TrySetException(new IkeInitiationFailedException(closed.Reason, closed.Notify, closed.Detail)))
                        Interlocked.Increment(ref _failed);
                    break;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _udp.DisposeAsync();
        foreach (var entry in _udp.Sessions.Values) entry.Done.TrySetCanceled();
    }
}

/// <summary>An initiation of <see cref="IkeInitiatorHost"/> ended without a CHILD_SA.</summary>
public sealed class IkeInitiationFailedException(IkeCloseReason reason, NotifyType? notify, string? detail)
    : Exception($"IKE SA closed before a CHILD_SA: {reason}{(notify is { } n ? " " + n : "")}{(detail is null ? "" : ": " + detail)}")
{
    public IkeCloseReason Reason { get; } = reason;

    public NotifyType? Notify { get; } = notify;
}
