using System.Net;
using KeyProxy.Ike.Messages;
using KeyProxy.Ike.Protocol;

namespace KeyProxy.Load.Peers;

/// <summary>
/// A load peer: IKE responders of our own engine on one address, many IKE SAs at once (one
/// <see cref="IkeSession"/> per initiator SPI, RFC 7296 2.6), on an IKE port and a NAT-T port.
/// On the NAT-T port IKE carries the non-ESP marker and anything else is ESP in UDP (RFC 3948 2.2),
/// which is only counted. Answers go back where the request came from (RFC 7296 2.11).
/// </summary>
public sealed class IkeResponderHost : IAsyncDisposable
{
    private readonly UdpIkeEndpoint<Entry> _udp;
    private readonly IkeSessionConfig _config;
    private readonly IkeServices _services;
    private long _established, _childSas;

    /// <summary>One IKE SA: its session and where its initiator last reached us (guarded by the entry).</summary>
    private sealed class Entry(IkeSession session) : IUdpIkeEntry
    {
        public IkeSession Session { get; } = session;
        public UdpIkePath? Path;
    }

    /// <param name="config">
    /// The responders' configuration; its <see cref="IkeSessionConfig.LocalEndpoint"/> and
    /// <see cref="IkeSessionConfig.LocalNatTraversalPort"/> are bound, its remote endpoint is replaced per initiator.
    /// </param>
    public IkeResponderHost(IkeSessionConfig config, IkeServices? services = null)
    {
        _config = config;
        _services = services ?? IkeServices.Default;
        _udp = new UdpIkeEndpoint<Entry>([config.LocalEndpoint.Address], config.LocalEndpoint.Port, config.LocalNatTraversalPort, _services);
        _udp.Start(Open, Flush);
    }

    public IPAddress Address => _config.LocalEndpoint.Address;

    /// <summary>IKE SAs established (IKE_AUTH done).</summary>
    public long Established => Interlocked.Read(ref _established);

    /// <summary>CHILD_SAs established (with IKE_AUTH or CREATE_CHILD_SA).</summary>
    public long ChildSas => Interlocked.Read(ref _childSas);

    /// <summary>ESP-in-UDP packets received on the NAT-T port.</summary>
    public long EspPackets => _udp.EspPackets;

    /// <summary>When set, the CHILD_SAs' ESP is decrypted and UDP inside it echoed back (the <c>esp-echo</c> scenario).</summary>
    public EspEcho? Echo { get => _udp.Echo; init => _udp.Echo = value; }

    /// <summary>Datagrams no session took.</summary>
    public long Dropped => _udp.Dropped;

    /// <summary>IKE SAs held now.</summary>
    public int Sessions => _udp.Sessions.Count;

    /// <summary>A new IKE SA for an IKE_SA_INIT request (RFC 7296 1.2), answering where it came from; nothing else opens one.</summary>
    private Entry? Open(ulong spiI, ReadOnlySpan<byte> ike, UdpIkePath path)
    {
        if (!CookieChallenge.IsIkeSaInitRequest(ike, out _)) return null;
        var config = _config with { RemoteEndpoint = path.Remote };
        return _udp.Sessions.GetOrAdd(spiI, _ => new Entry(IkeSession.CreateResponder(config, _services)));
    }

    /// <summary>
    /// Sends the session's datagrams (back along <paramref name="path"/>, else the initiator's last path) and counts its
    /// events; under the entry's lock. A datagram the session took becomes the initiator's path.
    /// </summary>
    private void Flush(ulong spiI, Entry entry, UdpIkePath? path)
    {
        bool accepted = true;
        foreach (var output in entry.Session.TakeOutputs())
        {
            switch (output)
            {
                case SendDatagram d:
                    if ((path ?? entry.Path) is { } back) _udp.Send(back, d);
                    else _udp.Send(0, entry.Session.Config, d);
                    break;
                case IkeMessageDropped:
                    accepted = false;
                    break;
                case IkeSaEstablished:
                    Interlocked.Increment(ref _established);
                    break;
                case ChildSaEstablished c:
                    Interlocked.Increment(ref _childSas);
                    Echo?.Add(c.ChildSa);
                    break;
                case ChildSaDeleted d:
                    Echo?.Remove(d.InboundSpi);
                    break;
                case IkeSaClosed:
                    _udp.Sessions.TryRemove(spiI, out _);
                    break;
            }
        }
        if (accepted && path is not null) entry.Path = path;
    }

    public ValueTask DisposeAsync() => _udp.DisposeAsync();
}
