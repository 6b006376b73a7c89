using System.Buffers.Binary;
using KeyProxy.Ike.Messages;

namespace KeyProxy.Ike.Protocol;

/// <summary>
/// One IKE SA with its CHILD_SAs, as initiator or responder: a sans-IO state machine (RFC 7296).
/// The host feeds it datagrams (<see cref="HandleDatagram"/>), timer expiries (<see cref="HandleTimer"/>)
/// and commands, and collects <see cref="IkeOutput"/>s: datagrams to send and events.
/// Not thread-safe: one caller at a time (a grain, or a test).
/// Each exchange lives in its own file: IkeSession.IkeSaInit.cs, .IkeAuth.cs, .CreateChildSa.cs, .Informational.cs.
/// </summary>
public sealed partial class IkeSession
{
    private readonly IkeSessionConfig _config;
    private readonly IkeServices _services;
    private readonly List<IkeOutput> _outputs = [];
    private readonly List<ChildSaState> _children = [];
    private readonly Queue<LocalTask> _tasks = new();

    private IkeSaState _sa;
    /// <summary>The IKE SA being replaced during a rekey, until its Delete exchange completes.</summary>
    private IkeSaState? _oldSa;

    private bool _natTraversal;
    private DateTimeOffset _lastHeard;
    private DateTimeOffset? _ikeRekeyAt;
    private DateTimeOffset? _halfOpenDeadline;

    private IkeSession(IkeSessionConfig config, IkeServices services, bool initiator)
    {
        _config = config;
        _services = services;
        IsOriginalInitiator = initiator;
        _sa = new IkeSaState { InitiatorSpi = initiator ? NewIkeSpi() : 0, WeAreInitiator = initiator };
        _lastHeard = services.Clock.UtcNow;
    }

    public static IkeSession CreateInitiator(IkeSessionConfig config, IkeServices? services = null) =>
        new(config, services ?? IkeServices.Default, initiator: true);

    /// <summary>A responder, to be fed the IKE_SA_INIT request that made the host create it.</summary>
    public static IkeSession CreateResponder(IkeSessionConfig config, IkeServices? services = null) =>
        new(config, services ?? IkeServices.Default, initiator: false);

    public IkeSessionConfig Config => _config;

    public bool IsOriginalInitiator { get; }

    public IkeSessionState State { get; private set; } = IkeSessionState.Idle;

    /// <summary>SPIs of the current IKE SA (they change with an IKE SA rekey).</summary>
    public ulong InitiatorSpi => _sa.InitiatorSpi;
    public ulong ResponderSpi => _sa.ResponderSpi;

    /// <summary>The current IKE SA's negotiated suite; null before IKE_SA_INIT completed.</summary>
    public Crypto.IkeSuite? Suite => _sa.Suite;

    /// <summary>Whether this node is the initiator of the current IKE SA (after a rekey: of the rekey).</summary>
    public bool IsCurrentInitiator => _sa.WeAreInitiator;

    /// <summary>Told where each exchange begins and ends (a host's tracing); null: nobody is.</summary>
    public IIkeExchangeObserver? Observer { get; set; }

    /// <summary>The live IKE SA's keys, for key schedule tests only (never logged).</summary>
    internal Crypto.IkeSaKeys? CurrentIkeSaKeys => _sa.Keys;

    /// <summary>The nonces the live IKE SA's keys were derived with (IKE_SA_INIT's, or the rekeying CREATE_CHILD_SA's).</summary>
    internal (ReadOnlyMemory<byte> Initiator, ReadOnlyMemory<byte> Responder) CurrentNonces => (_sa.NonceI, _sa.NonceR);

    /// <summary>True once IKE moved to the NAT-T ports (RFC 7296 2.23).</summary>
    public bool UsesNatTraversal => _natTraversal;

    public IReadOnlyList<ChildSa> ChildSas
    {
        get
        {
            var list = new List<ChildSa>(_children.Count);
            foreach (var c in _children)
                if (!c.Deleted) list.Add(c.Sa);
            return list;
        }
    }

    /// <summary>The next moment <see cref="HandleTimer"/> should be called, or null when nothing is pending.</summary>
    public DateTimeOffset? NextDeadline
    {
        get
        {
            if (State == IkeSessionState.Closed) return null;
            DateTimeOffset? next = _halfOpenDeadline;
            if (_sa.Outstanding is { } current) next = Min(next, current.RetransmitAt);
            if (_oldSa?.Outstanding is { } old) next = Min(next, old.RetransmitAt);
            if (State == IkeSessionState.Established)
            {
                if (_ikeRekeyAt is { } ikeRekeyAt)
                    next = Min(next, ikeRekeyAt);
                // While a request is in flight its retransmissions are the liveness check.
                if (_config.LivenessInterval is { } liveness && _sa.Outstanding is null)
                    next = Min(next, _lastHeard + liveness);
                foreach (var c in _children)
                    if (c.RekeyAt is { } at && !c.Deleted && !c.Replaced) next = Min(next, at);
            }
            return next;
        }
    }

    /// <summary>Takes the outputs produced since the last call.</summary>
    public List<IkeOutput> TakeOutputs()
    {
        var outputs = new List<IkeOutput>(_outputs);
        _outputs.Clear();
        return outputs;
    }

    /// <summary>
    /// A datagram from the peer: the IKE message itself (non-ESP marker already removed when it came
    /// through the NAT-T port, in which case <paramref name="viaNatTraversal"/> is true).
    /// </summary>
    public void HandleDatagram(ReadOnlyMemory<byte> datagram, bool viaNatTraversal = false)
    {
        if (State == IkeSessionState.Closed) { Drop(IkeDropReason.Closed, "IKE SA is closed"); return; }
        if (!IkeCodec.TryDecode(datagram, out var message, out var error))
        {
            Drop(IkeDropReason.Malformed, error.ToString());
            return;
        }

        if (message.Exchange == ExchangeType.IkeSaInit)
        {
            if (message.IsResponse) HandleIkeSaInitResponse(message);
            else HandleIkeSaInitRequest(message, viaNatTraversal);
            return;
        }

        var sa = FindSa(message);
        if (sa is null || sa.Inbound is null)
        {
            Drop(IkeDropReason.WrongSpi, $"no IKE SA {message.InitiatorSpi:x16}/{message.ResponderSpi:x16} here");
            return;
        }
        // RFC 7296 3.1: the I flag says who sent it; a message claiming our own role is not the peer's.
        if (message.IsFromInitiator == sa.WeAreInitiator)
        {
            Drop(IkeDropReason.Malformed, "Initiator flag does not match the sender's role");
            return;
        }

        if (message.IsResponse)
        {
            if (sa.Outstanding is not { } pending || pending.MessageId != message.MessageId)
            {
                Drop(IkeDropReason.UnexpectedMessageId, $"response {message.MessageId} matches no request in flight");
                return;
            }
        }
        else if (message.MessageId != sa.NextPeerRequestId)
        {
            if (message.MessageId == sa.LastResponseId && sa.LastResponse is { } cached)
            {
                // RFC 7296 2.1: a retransmitted request gets the same response again (all its fragments).
                // A fragmented request is answered once, on its first fragment (RFC 7383 2.6.1).
                if (!IsNonFirstFragment(message))
                    SendAll(cached, sa.LastResponseNatTraversal);
                Drop(IkeDropReason.Duplicate, $"retransmitted request {message.MessageId}");
            }
            else
            {
                Drop(IkeDropReason.UnexpectedMessageId, $"request {message.MessageId}, expected {sa.NextPeerRequestId}");
            }
            return;
        }

        var inner = Open(sa, message);
        if (inner is null) return;

        _lastHeard = _services.Clock.UtcNow;
        if (viaNatTraversal) _natTraversal = true;

        if (message.IsResponse)
        {
            var pending = sa.Outstanding!;
            sa.Outstanding = null;
            ExchangeEnded(pending.Exchange, pending.MessageId, weRequested: true, IkeMetrics.ResultOf(inner));
            pending.OnResponse(sa, message, inner);
        }
        else
        {
            sa.NextPeerRequestId++;
            ExchangeStarted(message.Exchange, message.MessageId, weRequested: false);
            if (FindUnsupportedCritical(inner) is { } critical)
            {
                // RFC 7296 2.5: refuse the whole message.
                SendResponse(sa, message, [new NotifyPayload(NotifyType.UnsupportedCriticalPayload, new[] { (byte)critical })]);
                return;
            }
            HandleRequest(sa, message, inner);
        }
        RunTasks();
    }

    /// <summary>Called at or after <see cref="NextDeadline"/>: retransmissions, rekeys, liveness, half-open expiry.</summary>
    public void HandleTimer()
    {
        if (State == IkeSessionState.Closed) return;
        var now = _services.Clock.UtcNow;

        if (_halfOpenDeadline is { } halfOpen && now >= halfOpen)
        {
            CloseNow(IkeCloseReason.Timeout, null, IsOriginalInitiator
                ? $"no IKE SA within {_config.EstablishTimeout}: the peer answered {(State == IkeSessionState.Initializing ? "nothing" : "IKE_SA_INIT, not IKE_AUTH")}"
                : "half-open IKE SA expired");
            return;
        }

        // The current IKE SA, then the one a rekey replaces (no iterator: this runs at every deadline).
        for (var k = 0; k < 2; k++)
        {
            var sa = k == 0 ? _sa : _oldSa;
            if (sa?.Outstanding is not { } pending || now < pending.RetransmitAt) continue;
            if (pending.Transmissions >= _config.Retransmission.MaxTransmissions)
            {
                if (sa == _oldSa)
                {
                    // The old IKE SA's Delete went unanswered: it is gone either way.
                    DiscardOldSa();
                    continue;
                }
                ExchangeEnded(pending.Exchange, pending.MessageId, weRequested: true, "timeout");
                CloseNow(IkeCloseReason.Timeout, null, $"no response to {pending.Exchange} request {pending.MessageId} after {pending.Transmissions} transmissions");
                return;
            }
            pending.Transmissions++;
            IkeMetrics.Retransmitted(pending.Exchange);
            pending.RetransmitAt = now + _config.Retransmission.TimeoutFor(pending.Transmissions);
            SendAll(pending.Datagrams, pending.NatTraversal);
        }

        if (State != IkeSessionState.Established) return;

        if (_ikeRekeyAt is { } ikeRekeyAt && now >= ikeRekeyAt)
        {
            _ikeRekeyAt = null; // the rekeyed IKE SA sets it again
            Enqueue(new LocalTask(LocalTaskKind.RekeyIkeSa));
        }
        foreach (var c in _children)
        {
            if (c.RekeyAt is { } at && now >= at && !c.Deleted && !c.Replaced && !c.Rekeying)
            {
                c.RekeyAt = null;
                Enqueue(new LocalTask(LocalTaskKind.RekeyChildSa, c.Sa.InboundSpi));
            }
        }
        if (_config.LivenessInterval is { } liveness && now >= _lastHeard + liveness && _sa.Outstanding is null && _tasks.Count == 0)
        {
            _lastHeard = now;
            Enqueue(new LocalTask(LocalTaskKind.Liveness));
        }
        RunTasks();
    }

    /// <summary>Initiator: sends the IKE_SA_INIT request.</summary>
    public void Start()
    {
        if (!IsOriginalInitiator || State != IkeSessionState.Idle)
            throw new InvalidOperationException("Start is for a new initiator session");
        if (_config.EstablishTimeout is { } limit) _halfOpenDeadline = _services.Clock.UtcNow + limit;
        SendIkeSaInitRequest();
    }

    /// <summary>Negotiates one more CHILD_SA with the configured proposals and selectors (RFC 7296 1.3.1).</summary>
    public void CreateChildSa() => Enqueue(new LocalTask(LocalTaskKind.CreateChildSa));

    /// <summary>Rekeys the CHILD_SA with this inbound SPI (RFC 7296 1.3.3).</summary>
    public void RekeyChildSa(uint inboundSpi) => Enqueue(new LocalTask(LocalTaskKind.RekeyChildSa, inboundSpi));

    /// <summary>Deletes the CHILD_SA with this inbound SPI (RFC 7296 1.4.1).</summary>
    public void DeleteChildSa(uint inboundSpi) => Enqueue(new LocalTask(LocalTaskKind.DeleteChildSa, inboundSpi));

    /// <summary>Rekeys the IKE SA (RFC 7296 1.3.2, 2.18).</summary>
    public void RekeyIkeSa() => Enqueue(new LocalTask(LocalTaskKind.RekeyIkeSa));

    /// <summary>Sends an empty INFORMATIONAL request (RFC 7296 1.4).</summary>
    public void CheckLiveness() => Enqueue(new LocalTask(LocalTaskKind.Liveness));

    /// <summary>Deletes the IKE SA and with it every CHILD_SA (RFC 7296 1.4.1).</summary>
    public void Delete()
    {
        if (State is IkeSessionState.Closed or IkeSessionState.Deleting) return;
        if (State != IkeSessionState.Established)
        {
            CloseNow(IkeCloseReason.Local, null, "closed before it was established");
            return;
        }
        // Jumps the queue: nothing else matters once the IKE SA goes.
        _tasks.Clear();
        Enqueue(new LocalTask(LocalTaskKind.DeleteIkeSa));
    }

    /// <summary>
    /// The initiator gives up an IKE SA whose IKE_AUTH is still unanswered (its owner starts a new one). The peer may
    /// have established it and only its response is late or lost, so an INFORMATIONAL Delete of the IKE SA
    /// (RFC 7296 1.4.1) goes out once, protected with the IKE_SA_INIT keys on the next message ID: a peer that
    /// answered IKE_AUTH accepts it and deletes its half (and its CHILD_SA); one that did not drops it as out of
    /// window and ends its half-open SA by timeout. No response is awaited: the session closes at once.
    /// Established SAs use <see cref="Delete"/>; before IKE_SA_INIT's answer there are no keys and nothing to send.
    /// </summary>
    public void Abandon()
    {
        if (State is IkeSessionState.Closed or IkeSessionState.Deleting) return;
        if (State == IkeSessionState.Authenticating && _sa.WeAreInitiator && _sa.Outbound is not null && _sa.ResponderSpi != 0)
        {
            var message = new IkeMessage
            {
                InitiatorSpi = _sa.InitiatorSpi,
                ResponderSpi = _sa.ResponderSpi,
                Exchange = ExchangeType.Informational,
                Flags = _sa.OwnFlags,
                MessageId = _sa.NextRequestId++,
                Payloads = [new DeletePayload(ProtocolId.Ike, [])],
            };
            SendAll(Protect(_sa, message), _natTraversal);
        }
        CloseNow(IkeCloseReason.Local, null, "abandoned before it was established");
    }

    // ---- plumbing shared by the exchanges ----

    private void Enqueue(LocalTask task)
    {
        if (State is IkeSessionState.Closed or IkeSessionState.Deleting) return;
        _tasks.Enqueue(task);
        RunTasks();
    }

    private bool HasTask(LocalTaskKind kind)
    {
        foreach (var t in _tasks) if (t.Kind == kind) return true;
        return false;
    }

    /// <summary>Starts queued exchanges while the window (size 1) is free and the IKE SA can carry them.</summary>
    private void RunTasks()
    {
        while (State == IkeSessionState.Established && _sa.Outstanding is null && !_sa.Deleting && _tasks.Count > 0)
        {
            var task = _tasks.Dequeue();
            switch (task.Kind)
            {
                case LocalTaskKind.CreateChildSa: StartCreateChildSa(null); break;
                case LocalTaskKind.RekeyChildSa: StartRekeyChildSa(task.Spi); break;
                case LocalTaskKind.DeleteChildSa: StartDeleteChildSa(task.Spi); break;
                case LocalTaskKind.RekeyIkeSa: StartRekeyIkeSa(); break;
                case LocalTaskKind.Liveness: SendRequest(_sa, ExchangeType.Informational, [], (_, _, _) => { }); break;
                case LocalTaskKind.DeleteIkeSa: StartDeleteIkeSa(); break;
            }
        }
    }

    private IkeSaState? FindSa(IkeMessage message)
    {
        if (_sa.Matches(message.InitiatorSpi, message.ResponderSpi) && _sa.ResponderSpi != 0) return _sa;
        if (_oldSa is not null && _oldSa.Matches(message.InitiatorSpi, message.ResponderSpi)) return _oldSa;
        return null;
    }

    private static bool IsNonFirstFragment(IkeMessage message) =>
        message.Find<EncryptedFragmentPayload>() is { FragmentNumber: > 1 };

    /// <summary>Verifies and decrypts SK, or collects SKF fragments (RFC 7383 2.6). Null: dropped or waiting for more fragments.</summary>
    private List<IkePayload>? Open(IkeSaState sa, IkeMessage message)
    {
        var fragment = message.Find<EncryptedFragmentPayload>();
        if (fragment is not null)
        {
            switch ((message.IsResponse ? sa.ResponseReassembler : sa.RequestReassembler).Add(message, sa.Inbound!, out var assembled, out var fragmentError))
            {
                case IkeFragmentStatus.Complete: return assembled!;
                case IkeFragmentStatus.Incomplete: return null;
                case IkeFragmentStatus.Ignored:
                    Drop(IkeDropReason.Duplicate, "fragment ignored (RFC 7383 2.6)");
                    return null;
                default:
                    Drop(fragmentError.Kind == IkeParseErrorKind.IntegrityCheckFailed ? IkeDropReason.IntegrityCheckFailed : IkeDropReason.Malformed, fragmentError.ToString());
                    return null;
            }
        }
        if (message.Find<EncryptedPayload>() is null)
        {
            Drop(IkeDropReason.Malformed, $"{message.Exchange} without an Encrypted payload");
            return null;
        }
        if (!IkeCodec.TryOpen(message, sa.Inbound!, out var inner, out var error))
        {
            Drop(error.Kind == IkeParseErrorKind.IntegrityCheckFailed ? IkeDropReason.IntegrityCheckFailed : IkeDropReason.Malformed, error.ToString());
            return null;
        }
        return inner;
    }

    private static PayloadType? FindUnsupportedCritical(List<IkePayload> payloads)
    {
        foreach (var p in payloads)
            if (p is UnknownPayload { Critical: true } u) return u.RawType;
        return null;
    }

    private void HandleRequest(IkeSaState sa, IkeMessage request, List<IkePayload> payloads)
    {
        switch (request.Exchange)
        {
            case ExchangeType.IkeAuth when !sa.WeAreInitiator && State == IkeSessionState.Authenticating:
                HandleIkeAuthRequest(sa, request, payloads);
                break;
            case ExchangeType.IkeIntermediate when !sa.WeAreInitiator && State == IkeSessionState.Authenticating:
                HandleIkeIntermediateRequest(sa, request, payloads);
                break;
            case ExchangeType.CreateChildSa when State == IkeSessionState.Established:
                HandleCreateChildSaRequest(sa, request, payloads);
                break;
            case ExchangeType.IkeFollowupKe when State == IkeSessionState.Established:
                HandleIkeFollowupKeRequest(sa, request, payloads);
                break;
            case ExchangeType.Informational when State != IkeSessionState.Authenticating:
                HandleInformationalRequest(sa, request, payloads);
                break;
            default:
                // RFC 7296 2.21.2: exchanges out of order are refused.
                SendResponse(sa, request, [new NotifyPayload(NotifyType.InvalidSyntax)]);
                if (State == IkeSessionState.Authenticating)
                    CloseNow(IkeCloseReason.ProtocolError, NotifyType.InvalidSyntax, $"{request.Exchange} before IKE_AUTH");
                break;
        }
    }

    private void SendRequest(IkeSaState sa, ExchangeType exchange, List<IkePayload> payloads, Action<IkeSaState, IkeMessage, List<IkePayload>> onResponse)
    {
        var message = new IkeMessage
        {
            InitiatorSpi = sa.InitiatorSpi,
            ResponderSpi = sa.ResponderSpi,
            Exchange = exchange,
            Flags = sa.OwnFlags,
            MessageId = sa.NextRequestId++,
            Payloads = payloads,
        };
        var datagrams = Protect(sa, message);
        ExchangeStarted(exchange, message.MessageId, weRequested: true);
        sa.Outstanding = new PendingRequest
        {
            MessageId = message.MessageId,
            Exchange = exchange,
            Datagrams = datagrams,
            NatTraversal = _natTraversal,
            OnResponse = onResponse,
            RetransmitAt = _services.Clock.UtcNow + _config.Retransmission.TimeoutFor(1),
        };
        SendAll(datagrams, _natTraversal);
    }

    private void SendResponse(IkeSaState sa, IkeMessage request, List<IkePayload> payloads)
    {
        var message = new IkeMessage
        {
            InitiatorSpi = sa.InitiatorSpi,
            ResponderSpi = sa.ResponderSpi,
            Exchange = request.Exchange,
            Flags = sa.OwnFlags | IkeFlags.Response,
            MessageId = request.MessageId,
            Payloads = payloads,
        };
        var datagrams = Protect(sa, message);
        ExchangeEnded(request.Exchange, request.MessageId, weRequested: false, IkeMetrics.ResultOf(payloads));
        sa.LastResponseId = request.MessageId;
        sa.LastResponse = datagrams;
        sa.LastResponseNatTraversal = _natTraversal;
        SendAll(datagrams, _natTraversal);
    }

    private IReadOnlyList<byte[]> Protect(IkeSaState sa, IkeMessage message) =>
        sa.PeerSupportsFragmentation && _config.MaxDatagramSize > 0
            ? IkeCodec.EncodeProtectedFragments(message, sa.Outbound!, _config.MaxDatagramSize - (_natTraversal ? 4 : 0))
            : [IkeCodec.EncodeProtected(message, sa.Outbound!)];

    private void ExchangeStarted(ExchangeType exchange, uint messageId, bool weRequested) =>
        Observer?.ExchangeStarted(exchange, messageId, weRequested);

    /// <summary>An exchange ended: counted (the metric) and told to the observer (its span).</summary>
    private void ExchangeEnded(ExchangeType exchange, uint messageId, bool weRequested, string result)
    {
        IkeMetrics.Exchange(exchange, weRequested, result);
        Observer?.ExchangeEnded(exchange, messageId, weRequested, result);
    }

    private void Send(byte[] datagram, bool natTraversal) => _outputs.Add(new SendDatagram(datagram, natTraversal));

    private void SendAll(IReadOnlyList<byte[]> datagrams, bool natTraversal)
    {
        for (var i = 0; i < datagrams.Count; i++) Send(datagrams[i], natTraversal);
    }

    private void Emit(IkeEvent e) => _outputs.Add(e);

    private void Drop(IkeDropReason reason, string detail) => _outputs.Add(new IkeMessageDropped(reason, detail));

    /// <summary>Ends the session at once: every CHILD_SA reported deleted, keys cleared.</summary>
    private void CloseNow(IkeCloseReason reason, NotifyType? notify, string detail)
    {
        if (State == IkeSessionState.Closed) return;
        foreach (var c in _children)
        {
            if (c.Deleted) continue;
            c.Deleted = true;
            Emit(new ChildSaDeleted(c.Sa.InboundSpi, c.Sa.OutboundSpi, ByPeer: reason == IkeCloseReason.DeletedByPeer));
        }
        State = IkeSessionState.Closed;
        _peerIkeRekey?.Clear();
        _peerIkeRekey = null;
        _ikeRekey?.FollowUp?.Clear();
        _tasks.Clear();
        _halfOpenDeadline = null;
        _sa.Outstanding = null;
        _sa.ClearKeys();
        _oldSa?.ClearKeys();
        _oldSa = null;
        Emit(new IkeSaClosed(reason, notify, detail));
    }

    /// <summary>Whether <see cref="IkeSessionConfig.FirstChildInboundSpi"/> went to a CHILD_SA already.</summary>
    private bool _firstChildSpiTaken;

    private ulong NewIkeSpi()
    {
        Span<byte> b = stackalloc byte[8];
        ulong spi;
        do { _services.Random.Fill(b); spi = BinaryPrimitives.ReadUInt64BigEndian(b); } while (spi == 0);
        return spi;
    }

    private uint NewChildSpi()
    {
        if (!_firstChildSpiTaken && _config.FirstChildInboundSpi is { } first && first >= 256 && FindChildByInbound(first) is null)
        {
            _firstChildSpiTaken = true;
            return first;
        }
        Span<byte> b = stackalloc byte[4];
        uint spi;
        // RFC 4303 2.1: SPIs 1-255 are reserved.
        do { _services.Random.Fill(b); spi = BinaryPrimitives.ReadUInt32BigEndian(b); } while (spi < 256 || FindChildByInbound(spi) is not null);
        return spi;
    }

    private byte[] NewNonce()
    {
        // RFC 7296 2.10: at least half the PRF key size, and at least 128 bits; 32 bytes suits every PRF here.
        var nonce = new byte[32];
        _services.Random.Fill(nonce);
        return nonce;
    }

    private static DateTimeOffset? Min(DateTimeOffset? a, DateTimeOffset b) => a is null || b < a ? b : a;
}
