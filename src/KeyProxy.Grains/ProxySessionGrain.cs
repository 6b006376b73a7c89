using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using KeyProxy.Abstractions;
using KeyProxy.Grains.Tracing;
using KeyProxy.Ike.Protocol;
using KeyProxy.Wire;
using KeyProxy.Wire.Proxy;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace KeyProxy.Grains;

/// <summary>
/// The seed's key exchange proxy server for one IKE SA: the IKEv2 engine (KeyProxy.Ike) run as
/// the handset, its datagrams sent through the handset's edge, its timers on a grain timer, and
/// every CHILD_SA it agrees turned into a key transfer for the handset (claims 1-3). It ends, and
/// deactivates, with its IKE SA.
/// </summary>
/// <remarks>
/// Issue 17, the grain calls of a proxied SA: what a turn produces for the edge (datagrams, routes, key transfers) is
/// collected (<see cref="PendingEdgeActions"/>) and returned to the edge's call that caused it; only a turn the edge did not
/// start (a timer, a close) hands it over with one <see cref="IEdgeGrain.Apply"/>. The subscriber is called once per
/// session (<see cref="ISubscriberSessionGrain.BeginSession"/>), and its grant lets the session seal the first key
/// transfer itself.
/// </remarks>
[ProxySessionPlacement]
public sealed partial class ProxySessionGrain(ILogger<ProxySessionGrain> logger, IOptions<ProxyNetworkOptions> options) : Grain, IProxySessionGrain
{
    private readonly ProxyNetworkOptions _options = options.Value;
    private readonly HashSet<uint> _childInboundSpis = [];
    /// <summary>When each live CHILD_SA (by inbound SPI) was established, for the admin API's listing.</summary>
    private readonly Dictionary<uint, DateTimeOffset> _childSince = [];
    private IkeSession? _ike;
    /// <summary>The IKE exchanges' spans (issue 20 item 3), the engine's observer.</summary>
    private IkeExchangeSpans? _spans;
    private HandsetBinding? _handset;
    private IPAddress? _peer;
    /// <summary><see cref="_peer"/> as text, formatted once: every datagram and key transfer names it.</summary>
    private string? _peerText;
    private IPEndPoint? _peerIkePath;
    private IPEndPoint? _peerNatTPath;
    private uint _requestId;
    private Nonce16 _handsetNonce;
    private ProxyRoles _role;
    private bool _childDelivered;
    /// <summary>The handset heard the answer to its current proxy request: its SA, or why not (sealed, or else from the edge).</summary>
    private bool _requestAnswered;
    /// <summary>An SA for the current request was made but its install could not be sealed (the subscriber's storage was down).</summary>
    private bool _handOverFailed;
    /// <summary>When the current proxy request is answered at the latest (<see cref="ProxyNetworkOptions.RequestAnswerTimeout"/>).</summary>
    private IGrainTimer? _answerDeadline;
    private bool _closed;
    private DateTimeOffset _since;
    private DateTimeOffset? _established;
    private IGrainTimer? _timer;
    private IGrainTimer? _lease;
    private DateTimeOffset _attemptStarted;
    /// <summary>The authenticated peer identity, once the IKE SA is up.</summary>
    private string? _peerIdentity;
    /// <summary>The peer asserted INITIAL_CONTACT (RFC 7296 2.4) in IKE_AUTH: the first CHILD_SA's install tells the subscriber.</summary>
    private string? _initialContactFrom;
    /// <summary>The subscriber's grant for sealing the first key transfer here (used once, then cleared); null: the subscriber seals.</summary>
    private KeyTransferGrant? _grant;
    /// <summary>The inbound SPI chosen for the first CHILD_SA (<see cref="IkeSessionConfig.FirstChildInboundSpi"/>), listed by the subscriber at the start.</summary>
    private uint _firstChildSpi;
    /// <summary>What this turn has the edge do.</summary>
    private readonly PendingEdgeActions _edge = new();
    /// <summary>The turn is the edge's call, whose answer carries <see cref="_edge"/>; otherwise the turn pushes it.</summary>
    private bool _inEdgeCall;

    private Guid Id => this.GetPrimaryKey();

    private IEdgeGrain Edge => GrainFactory.Reference<IEdgeGrain>(_handset!.EdgeId);

    private ISubscriberSessionGrain Subscriber => GrainFactory.Reference<ISubscriberSessionGrain>(_handset!.Nai);

    public async Task<EdgeActions> StartInitiator(HandsetBinding handset, string peerAddress, byte[] proxyRequest)
    {
        _inEdgeCall = true;
        try { await StartInitiatorAsync(handset, peerAddress, proxyRequest); }
        finally { _inEdgeCall = false; }
        return TakeEdgeActions();
    }

    private async Task StartInitiatorAsync(HandsetBinding handset, string peerAddress, byte[] proxyRequest)
    {
        if (_ike is not null)
        {
            if (!_closed && _ike.State == IkeSessionState.Established && ProxyRequest.TryParse(proxyRequest, out var next) == WireError.None
                && next!.RequestId != _requestId)
            {
                // A new request towards this peer while our IKE SA lives (its CHILD_SA was deleted, or expired at the
                // handset): RFC 7296 1.3.1, a CHILD_SA by CREATE_CHILD_SA on this IKE SA, delivered for that request.
                (_requestId, _handsetNonce, _childDelivered, _attemptStarted) = (next.RequestId, next.HandsetNonce, false, DateTimeOffset.UtcNow);
                ArmAnswerDeadline();
                LogChildRequested(Id, next.RequestId, _ike.InitiatorSpi);
                _ike.CreateChildSa();
                await FlushAsync();
                return;
            }
            // A retried call: the handset is still waiting. When the peer answered IKE_SA_INIT but not IKE_AUTH after a
            // while, it may have lost its state (its proxy session died with a silo): start over with a fresh IKE SA.
            // So too when the IKE SA is up but the key transfer of its child SA never reached the handset (the
            // subscriber's storage was down when it was sealed): the handset has no SA and asks again. A peer that
            // answered nothing yet gets no new IKE SA per retry: this one retransmits until it is established or
            // gives up (EstablishTimeout), and the handset hears which.
            if (!_closed && !_childDelivered
                && (_ike.State == IkeSessionState.Authenticating || _ike.State == IkeSessionState.Established && _childInboundSpis.Count > 0)
                && DateTimeOffset.UtcNow - _attemptStarted >= RestartAfter)
            {
                await RestartInitiatorAsync();
            }
            return;
        }
        (_handset, _role, _peer, _since) = (handset, ProxyRoles.Initiator, IPAddress.Parse(peerAddress), DateTimeOffset.UtcNow);
        _peerText = _peer.ToString();
        if (ProxyRequest.TryParse(proxyRequest, out var request) != WireError.None)
        {
            await FailAsync(KeyProxyReason.BadRequest, "the proxy request does not parse");
            return;
        }
        (_requestId, _handsetNonce) = (request!.RequestId, request.HandsetNonce);
        // Armed before the subscriber is asked: a subscriber that cannot be activated (its storage down) throws, and the
        // handset's retries find this activation waiting still.
        if (_answerDeadline is null) ArmAnswerDeadline();
        _firstChildSpi = NewChildSpi();
        var credentials = await Subscriber.BeginSession(Id, handset.TunnelId, peerAddress, _firstChildSpi);
        _grant = credentials?.Grant;
        if (credentials is null)
        {
            await FailAsync(KeyProxyReason.ProxyServiceNotSubscribed, "the subscriber has no key exchange proxy service");
            return;
        }
        var config = ProxySessionConfig.ForInitiator(credentials, handset, _peer, request, _options, _firstChildSpi, out var error);
        if (config is null)
        {
            await FailAsync(KeyProxyReason.BadRequest, error!);
            return;
        }
        _attemptStarted = DateTimeOffset.UtcNow;
        _ike = IkeSession.CreateInitiator(config);
        _ike.Observer = _spans = new IkeExchangeSpans(Id, ProxyRoles.Initiator);
        // The edge routes the peer's answers here before it sends IKE_SA_INIT (the order of EdgeActions).
        _edge.Routes.Add(_ike.InitiatorSpi);
        ArmLease();
        LogStarted(Id, handset.Nai, "initiator", peerAddress);
        GrainMetrics.SessionStarted(ProxyRoles.Initiator);
        _ike.Start();
        await FlushAsync();
    }

    /// <summary>A retried request finds the exchange stuck at least this long: the session starts a new IKE SA.</summary>
    private static readonly TimeSpan RestartAfter = TimeSpan.FromSeconds(1);

    private async Task RestartInitiatorAsync()
    {
        LogRestarting(Id, _ike!.InitiatorSpi);
        if (_ike.State == IkeSessionState.Established)
        {
            // RFC 7296 1.4.1: delete the old IKE SA (and with it its child SA) at the peer, so that the peer's side
            // keeps no SA the handset never got. Only the request is sent; its answer finds no route any more.
            _ike.Delete();
            SendTakenDatagrams();
            _childInboundSpis.Clear();
            _childSince.Clear();
            _established = null;
        }
        else
        {
            // Issue 15: IKE_AUTH unanswered for a second is not IKE_AUTH lost. Under a storage outage the peer's answer
            // came late, the peer had its IKE SA, and without a Delete it kept it (and its handset the SA) until its
            // liveness check: the engine sends the Delete under the IKE_SA_INIT keys (RFC 7296 1.4.1).
            _ike.Abandon();
            SendTakenDatagrams();
        }
        // The old IKE SA's routes go before the new one's is added; its DELETE's answer finds none.
        _edge.ResetRoutes = true;
        _edge.Routes.Clear();
        (_peerIkePath, _peerNatTPath, _attemptStarted) = (null, null, DateTimeOffset.UtcNow);
        _spans?.EndAll("abandoned");
        // A new first CHILD_SA SPI (issue 15, found by the core kill -9 test): the old IKE SA's CHILD_SA never reached this
        // handset, but it may have reached the peer's (its responder answered IKE_AUTH, the answer came late), with this
        // SPI as its outbound one; the peer's handset then refused the new SA as "already installed", and when the old
        // half was closed (INITIAL_CONTACT) it was left with no SA at all. The grant covered the old SPI only: the new
        // one's install is sealed by the subscriber, which records it first.
        _firstChildSpi = NewChildSpi();
        if (_grant is not null)
        {
            Array.Clear(_grant.DeliveryKey);
            _grant = null;
        }
        _ike = IkeSession.CreateInitiator(_ike.Config with { FirstChildInboundSpi = _firstChildSpi });
        _ike.Observer = _spans;
        _edge.Routes.Add(_ike.InitiatorSpi);
        _ike.Start();
        await FlushAsync();
    }

    public async Task<EdgeActions> StartResponder(HandsetBinding handset, IkeDatagram first)
    {
        _inEdgeCall = true;
        try { await StartResponderAsync(handset, first); }
        finally { _inEdgeCall = false; }
        return TakeEdgeActions();
    }

    private async Task StartResponderAsync(HandsetBinding handset, IkeDatagram first)
    {
        if (_ike is not null)
        {
            await HandleIkeAsync(first);
            return;
        }
        (_handset, _role, _peer, _since) = (handset, ProxyRoles.Responder, IPAddress.Parse(first.PeerAddress), DateTimeOffset.UtcNow);
        _peerText = _peer.ToString();
        _firstChildSpi = NewChildSpi();
        var credentials = await Subscriber.BeginSession(Id, handset.TunnelId, first.PeerAddress, _firstChildSpi);
        _grant = credentials?.Grant;
        var config = credentials is null ? null : ProxySessionConfig.ForResponder(credentials, handset, new IPEndPoint(_peer, first.PeerPort), _options, _firstChildSpi);
        if (config is null)
        {
            // The edge checked the profile copy; the master profile changed since (or allows none of the suites the
            // handset runs). Say nothing to the peer.
            await CloseQuietlyAsync();
            return;
        }
        _ike = IkeSession.CreateResponder(config);
        _ike.Observer = _spans = new IkeExchangeSpans(Id, ProxyRoles.Responder);
        ArmLease();
        LogStarted(Id, handset.Nai, "responder", first.PeerAddress);
        GrainMetrics.SessionStarted(ProxyRoles.Responder);
        await HandleIkeAsync(first);
    }

    public async Task<EdgeActions> HandleIke(IkeDatagram datagram)
    {
        if (_handset is null)
        {
            // A fresh activation: the session the edge routes this SPI to died with its silo. Not kept alive by
            // every retransmission from the peer (issue 8: no activation left behind); the subscriber's audit
            // removes the route.
            DeactivateOnIdle();
            return EdgeActions.None;
        }
        _inEdgeCall = true;
        try { await HandleIkeAsync(datagram); }
        finally { _inEdgeCall = false; }
        return TakeEdgeActions();
    }

    private async Task HandleIkeAsync(IkeDatagram datagram)
    {
        if (_ike is null || _closed) return;
        _ike.HandleDatagram(datagram.Message, datagram.NatTraversal);
        // RFC 7296 2.11: answer on the path the peer uses, but only a message the engine accepted moves
        // the path; a forged datagram with a known SPI must not redirect the SA's traffic.
        await FlushAsync(PathOf(datagram), datagram.NatTraversal);
    }

    /// <summary>Where a datagram came from: the path already known when it is the same (the common case), else a new one.</summary>
    private IPEndPoint PathOf(IkeDatagram datagram)
    {
        var address = datagram.PeerAddress == _peerText ? _peer! : IPAddress.Parse(datagram.PeerAddress);
        var known = datagram.NatTraversal ? _peerNatTPath : _peerIkePath;
        return known is not null && known.Port == datagram.PeerPort && known.Address.Equals(address)
            ? known
            : new IPEndPoint(address, datagram.PeerPort);
    }

    public async Task Close(string reason)
    {
        await CloseAsync(reason, SaDeleteReason.Detached);
        await PushEdgeActionsAsync();
    }

    public async Task SupersededByInitialContact(string peerIdentity)
    {
        if (_handset is null)
        {
            DeactivateOnIdle(); // a fresh activation: the session died with its silo, the subscriber's audit covers it
            return;
        }
        // A session still establishing has no identity yet and installed nothing: its half-open timeout ends it.
        if (_role == ProxyRoles.Responder && _peerIdentity == peerIdentity)
        {
            await CloseAsync("a newer IKE SA with the peer came with INITIAL_CONTACT (RFC 7296 2.4)", SaDeleteReason.IkeSaClosed);
            await PushEdgeActionsAsync();
        }
    }

    public async Task KeyTransferUndelivered(byte kind)
    {
        var what = (KeyTransferKind)kind;
        LogUndeliverable(Id, what.ToString(), "the handset is no longer attached there");
        GrainMetrics.KeyTransferUndelivered(what, KeyTransferOutcome.NotAttached);
        if (_handset is null)
        {
            DeactivateOnIdle(); // a fresh activation: nothing here handed that key transfer over
            return;
        }
        if (_closed || _ike is null) return;
        // Not delivered: the handset has no SA (its retried request starts over), and nobody is there to use the SA
        // at the peer: do not keep it open there.
        if (what == KeyTransferKind.SaInstall) _childDelivered = false;
        if (_ike.State == IkeSessionState.Established)
        {
            _ike.Delete();
            await FlushAsync();
            await PushEdgeActionsAsync();
        }
    }

    /// <summary>Deletes the IKE SA at the peer (RFC 7296 1.4.1), then the handset's SAs with <paramref name="handsetReason"/>.</summary>
    private async Task CloseAsync(string reason, SaDeleteReason handsetReason)
    {
        if (_ike is null || _closed) return;
        LogClosing(Id, reason);
        if (_ike.State == IkeSessionState.Established)
        {
            _ike.Delete();
            await FlushAsync();
        }
        if (!_closed) await EndAsync(handsetReason);
    }

    /// <summary>How long a session the runtime deactivates spends ending its IKE SA (see <see cref="OnDeactivateAsync"/>).</summary>
    private static readonly TimeSpan DeactivationCleanup = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Issue 15: the runtime may end this activation while its silo lives on: Orleans deactivates every activation whose
    /// grain directory entry was held by a silo that died (DirectoryFailure), and others at shutdown or under memory
    /// pressure. The IKE SA is in this activation's memory only; lost without a word it left the peer's half and the
    /// handset's SAs behind (bob's SA of the edge kill -9 fault test, with his subscriber's list gone the same way). So
    /// the session deletes its IKE SA at the peer (RFC 7296 1.4.1), and the subscriber's audit, which still lists it,
    /// deletes its SAs at the handset. Not for an explicit DeactivateOnIdle: the session's own after it closed, or a deliberate drop that
    /// stands for a silo's death (the subscriber's audit and the peer's liveness check cover those).
    /// </summary>
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_closed || _ike is null || _handset is null || reason.ReasonCode == DeactivationReasonCode.ApplicationRequested) return;
        LogDeactivatedByRuntime(Id, reason.ReasonCode, reason.Description);
        try { await EndOnDeactivationAsync().WaitAsync(DeactivationCleanup, cancellationToken); }
        catch (Exception e) when (e is OrleansException or TimeoutException or OperationCanceledException or InvalidOperationException)
        {
            LogSendFailed(Id, e.Message);
        }
    }

    private async Task EndOnDeactivationAsync()
    {
        _closed = true;
        _timer?.Dispose();
        _lease?.Dispose();
        // Only the request leaves (no timer to retransmit it any more); the peer's liveness check covers its loss.
        _ike!.Delete();
        SendTakenDatagrams();
        // The handset's half is left to the subscriber's audit, which still lists this session (SessionEnded is not
        // called) and finds it gone. Sealing the SA delete here could leave the subscriber counting those SAs as
        // deleted while this activation ended before the edge delivered it (seen under load: bob kept his SA).
        // The routes stay too, for the audit to remove (issue 15, a stress run's core kill -9): the runtime may end this
        // activation while a second one of the same key already runs (the silo that held its directory entry died, and
        // the handset's retried request re-created the session elsewhere before this silo heard of the death); "ended"
        // would remove every route of the key at the edge, the new activation's too, and its peer's answers then found
        // none ("peer not responding"). The audit removes them only once no activation of the key holds SAs.
        await PushEdgeActionsAsync();
        _spans?.EndAll("closed");
    }

    public Task<ProxySessionInfo?> GetInfo() => Task.FromResult(_handset is null || _ike is null || _closed ? null : Info());

    public Task<bool> HoldsSasFor(string nai)
    {
        if (_handset is null)
        {
            // A fresh activation: the session of this key died with its silo (or never was). Not kept for the probe.
            DeactivateOnIdle();
            return Task.FromResult(false);
        }
        // Starting (waiting for BeginSession's answer, no engine yet) counts as holding (issue 15). The subscriber listed
        // this session before answering, and an audit that crossed that answer found "not holding", took the session off
        // its list and owed a delete of the SPI about to be installed: the install then reached the handset unlisted (no
        // one left to delete it should the session die), or the delete overtook it and left the SA at the peer only.
        // (A key started again after its earlier activation died is told apart by BeginSession itself.) Bounded, so that
        // a start that never got its answer does not keep this activation alive through the probes for ever.
        if (_ike is null && !_closed && DateTimeOffset.UtcNow - _since > StartingGrace)
        {
            DeactivateOnIdle();
            return Task.FromResult(false);
        }
        return Task.FromResult(!_closed && _handset.Nai == nai);
    }

    /// <summary>How long a session may wait for BeginSession's answer and still count as holding SAs: past any call timeout.</summary>
    private static readonly TimeSpan StartingGrace = TimeSpan.FromMinutes(1);

    private static readonly TimeSpan LeaseCallTimeout = TimeSpan.FromSeconds(3);

    /// <summary>The lease towards the subscriber (<see cref="ProxyNetworkOptions.SessionAuditInterval"/>).</summary>
    private void ArmLease()
    {
        if (_lease is not null || _options.SessionAuditInterval is not { } every || every <= TimeSpan.Zero) return;
        // A grain timer, not a reminder (issue 14): the lease is this activation's IKE SA, which dies with its silo;
        // a reminder would wake a fresh activation with nothing to renew. The subscriber's audit covers that death.
        _lease = this.RegisterGrainTimer(RenewLeaseAsync, new GrainTimerCreationOptions(every, every) { KeepAlive = true });
    }

    /// <summary>
    /// Issue 8, no SA on one side only: while the handset is attached as it was when this session started, the session
    /// renews its listing at the subscriber (with the SPIs it installed). Once the handset detached or attached again
    /// (the subscriber's silo may have died and taken its list of sessions, so nobody closed this one), the session
    /// closes: the IKE SA is deleted at the peer, whose own session then deletes its handset's half.
    /// </summary>
    private async Task RenewLeaseAsync(CancellationToken ct)
    {
        if (_closed || _handset is null || _ike is null) return;
        bool attached;
        try
        {
            // Bounded: the IKE timer waits behind this one (timers do not interleave), and liveness must go on.
            attached = await Subscriber.RenewSession(Id, _handset.EdgeId, _handset.TunnelId, _peerText ?? "", [.. _childInboundSpis])
                .WaitAsync(LeaseCallTimeout, ct);
        }
        catch (Exception e) when (e is OrleansException or TimeoutException or OperationCanceledException)
        {
            return; // the subscriber's silo is unreachable just now: ask again next time
        }
        if (attached || _closed) return;
        try
        {
            await Close("the handset's attachment ended (lease not renewed)");
        }
        catch (Exception e) when (e is OrleansException or TimeoutException or InvalidOperationException)
        {
            // The handset's edge is gone: the DELETE cannot leave; the peer's liveness check ends its side.
            LogLeaseCloseFailed(Id, e.Message);
            _closed = true;
            _timer?.Dispose();
            _lease?.Dispose();
            DeactivateOnIdle();
        }
    }

    private ProxySessionInfo Info() => new(Id.ToString(), _handset!.Nai, _role, _peerText ?? "", _handset.EdgeId,
        $"{_ike!.InitiatorSpi:x16}/{_ike.ResponderSpi:x16}", _since,
        _ike.State.ToString().ToUpperInvariant(),
        _ike.Suite is { } suite ? SuiteText.Ike(suite) : "",
        _established,
        [.. _ike.ChildSas.Select(c => new ChildSaInfo(c.InboundSpi, c.OutboundSpi, SuiteText.Esp(c.Suite), SuiteText.Mode(c),
            _childSince.TryGetValue(c.InboundSpi, out var at) ? at : _established ?? _since))]);

    /// <summary>Sends what the engine produced and acts on its events; then re-arms the timer.</summary>
    private async Task FlushAsync(IPEndPoint? from = null, bool viaNatTraversal = false)
    {
        var outputs = _ike!.TakeOutputs();
        if (from is not null && !outputs.Exists(o => o is IkeMessageDropped))
        {
            if (viaNatTraversal) _peerNatTPath = from;
            else _peerIkePath = from;
        }
        // RFC 7296 2.18: the response that completes a peer's IKE SA rekey comes before the engine's
        // IkeSaRekeyed, and the peer may use the new IKE SA as soon as it has it (e.g. a CHILD_SA
        // rekey it queued): the edge must route the new initiator SPI here before the response leaves (it adds the
        // routes of EdgeActions before it sends the datagrams).
        foreach (var output in outputs)
        {
            if (output is IkeSaRekeyed rekeyed)
            {
                GrainMetrics.SaRekeyed(ike: true);
                _edge.Routes.Add(rekeyed.InitiatorSpi);
            }
        }
        foreach (var output in outputs)
        {
            switch (output)
            {
                case SendDatagram d:
                    SendIke(d);
                    break;
                case IkeSaEstablished e:
                    LogEstablished(Id, e.InitiatorSpi, e.ResponderSpi, e.PeerIdentity);
                    GrainMetrics.SessionEstablished(_role);
                    _established ??= DateTimeOffset.UtcNow;
                    _peerIdentity = e.PeerIdentity;
                    if (e.PeerInitialContact && _role == ProxyRoles.Responder) _initialContactFrom = e.PeerIdentity;
                    // The edge counts responder sessions as half-open (RFC 7296 2.6) until this, and lists established ones.
                    _edge.Established = true;
                    break;
                case ChildSaEstablished c:
                    _childInboundSpis.Add(c.ChildSa.InboundSpi);
                    _childSince[c.ChildSa.InboundSpi] = DateTimeOffset.UtcNow;
                    // Not delivered (storage down): the handset retries its request and the initiator starts over.
                    var first = !_childDelivered;
                    _childDelivered |= await DeliverAsync(new SaInstall(_childDelivered ? 0 : _requestId, _childDelivered ? default : _handsetNonce, 0, c.ChildSa.ToSaBundle()));
                    if (first && _childDelivered)
                    {
                        GrainMetrics.SaDelivered(_role, DateTimeOffset.UtcNow - _since);
                        _requestAnswered = true;
                        DisarmAnswerDeadline();
                    }
                    break;
                case ChildSaRekeyed r:
                    GrainMetrics.SaRekeyed(ike: false);
                    await DeliverAsync(new SaInstall(0, default, r.OldInboundSpi, r.Replacement.ToSaBundle()));
                    _childInboundSpis.Add(r.Replacement.InboundSpi);
                    _childSince[r.Replacement.InboundSpi] = DateTimeOffset.UtcNow;
                    break;
                case ChildSaDeleted d:
                    _childInboundSpis.Remove(d.InboundSpi);
                    _childSince.Remove(d.InboundSpi);
                    await DeliverAsync(new SaDelete(d.ByPeer ? SaDeleteReason.PeerDeleted : SaDeleteReason.Rekeyed, [d.InboundSpi]));
                    break;
                case ChildSaFailed f when !_childDelivered && _requestId != 0:
                    GrainMetrics.SessionFailed(_role, ProxySessionConfig.ReasonFor(f.Reason));
                    await AnswerWithFailureAsync(ProxySessionConfig.ReasonFor(f.Reason), f.Detail);
                    break;
                case IkeSaClosed closed when closed.Reason != IkeCloseReason.Rekeyed:
                    LogClosed(Id, closed.Reason, closed.Detail);
                    if (!_childDelivered && _requestId != 0 && !_requestAnswered)
                    {
                        GrainMetrics.SessionFailed(_role, ProxySessionConfig.ReasonFor(closed.Reason));
                        await AnswerWithFailureAsync(ProxySessionConfig.ReasonFor(closed.Reason), ProxySessionConfig.TextFor(closed));
                    }
                    await EndAsync(SaDeleteReason.IkeSaClosed);
                    return;
            }
        }
        ArmTimer();
    }

    /// <summary>An engine datagram for the edge to send as the handset.</summary>
    private void SendIke(SendDatagram d) => _edge.Datagrams.Add(PeerDatagram(d));

    /// <summary>The actions collected in this turn, for the answer to the edge's call.</summary>
    private EdgeActions TakeEdgeActions() => _handset is null ? EdgeActions.None : _edge.Take(_handset.HandsetAddress);

    /// <summary>
    /// Hands the actions of a turn the edge did not start (a timer, a close) to the handset's edge in one call. An edge
    /// that cannot be reached (its silo died and has not come back) is lost datagrams like any others, which
    /// retransmission and liveness deal with: it must not throw out of the turn, which would skip the engine's remaining
    /// events (an IKE SA closing) and leave the timer unarmed, so that the session hung for ever holding SAs (found by
    /// the edge kill -9 fault test).
    /// </summary>
    private async Task PushEdgeActionsAsync()
    {
        if (_handset is null || _edge.IsEmpty) return;
        var actions = TakeEdgeActions();
        try { await Edge.Apply(Id, actions); }
        catch (Exception e) when (e is OrleansException or TimeoutException or InvalidOperationException)
        {
            LogSendFailed(Id, e.Message);
            // A key transfer lost with them may be the delete of the handset's SAs (issue 15): see EndAsync.
            if (actions.KeyTransfers.Count > 0) _handsetDeleteLost = true;
        }
    }

    /// <summary>
    /// Issue 15: the delete of the handset's SAs at this session's end may not have reached the edge (its seal failed
    /// while the subscriber was busy or its storage down, or the edge call failed). Then the session does not tell the
    /// subscriber it ended: still listed, it is found gone by the next audit, which deletes those SAs itself. Before, it
    /// reported its end regardless, the subscriber forgot it, and the handset kept the SAs with no one to delete them.
    /// </summary>
    private bool _handsetDeleteLost;

    /// <summary>A fresh CHILD_SA SPI (RFC 4303 2.1: 1-255 reserved), chosen before the exchange for the first CHILD_SA.</summary>
    private static uint NewChildSpi()
    {
        uint spi;
        do spi = BinaryPrimitives.ReadUInt32BigEndian(RandomNumberGenerator.GetBytes(4)); while (spi < 256);
        return spi;
    }

    /// <summary>Where an engine datagram goes: the peer's path as last seen, else its configured ports.</summary>
    private IkeDatagram PeerDatagram(SendDatagram d)
    {
        var to = d.NatTraversal
            ? _peerNatTPath ?? new IPEndPoint(_peer!, _options.PeerNatTPort)
            : _peerIkePath ?? new IPEndPoint(_peer!, _options.PeerIkePort);
        // The engine's datagram as it is when it is a whole array: the engine never writes a datagram it queued (it keeps
        // it to retransmit), the edge only reads it, and IkeDatagram is immutable, so a local call hands it on as is.
        var message = MemoryMarshal.TryGetArray(d.Data, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : d.Data.ToArray();
        return new IkeDatagram(to.Address.Equals(_peer) ? _peerText! : to.Address.ToString(), to.Port, d.NatTraversal, message);
    }

    /// <summary>
    /// Seals the key transfer and hands it to the edge with this turn's actions; whether it was handed over (the edge
    /// reports one it cannot deliver, <see cref="KeyTransferUndelivered"/>). A failure of the subscriber grain when it
    /// seals (its storage down while it reserves key transfer counters) is logged and reported as not handed over
    /// instead of failing the engine's flush half-way.
    /// </summary>
    private async Task<bool> DeliverAsync(KeyTransferContent content)
    {
        // The key transfer's span (issue 20 item 3): the subscriber's sealing, when it seals, and the edge's delivery are its children.
        using var span = GrainTracing.StartKeyTransfer(content.Kind, Id, content switch
        {
            SaInstall install => install.RequestId,
            ProxyFailure failure => failure.RequestId,
            _ => 0,
        });
        var outcome = await SealAsync(content, span);
        GrainTracing.KeyTransferEnded(span, outcome);
        return outcome == KeyTransferOutcome.Sealed;
    }

    /// <summary>What <see cref="DeliverAsync"/> does: <see cref="KeyTransferOutcome.Sealed"/> (and handed to the edge) or why not.</summary>
    private async Task<string> SealAsync(KeyTransferContent content, System.Diagnostics.Activity? span)
    {
        // Encoded into a pooled buffer (zeroed before it goes back): only a key transfer the subscriber seals needs its own copy.
        var length = content.GetEncodedLength();
        var encoded = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            if (content.TryWrite(encoded.AsSpan(0, length), out _) != WireError.None)
            {
                LogUndeliverable(Id, content.Kind.ToString(), "cannot encode");
                GrainMetrics.KeyTransferUndelivered(content.Kind, KeyTransferOutcome.EncodeFailed);
                return KeyTransferOutcome.EncodeFailed;
            }
            byte[]? sealedMessage;
            // INITIAL_CONTACT goes with the install of the IKE SA's first CHILD_SA: the SA that replaces the stale ones.
            var initialContactFrom = content is SaInstall ? _initialContactFrom : null;
            if (TakeGrant(content, initialContactFrom) is { } grant)
            {
                // Issue 17: sealed here, with the attachment's delivery key and the counter the subscriber reserved for
                // this session; the subscriber listed what it installs when the session began.
                try
                {
                    using var sealer = new KeyTransferSealer(grant.DeliveryKey);
                    sealedMessage = sealer.Seal(grant.Counter, content);
                }
                finally { Array.Clear(grant.DeliveryKey); }
                span?.SetTag("keyproxy.key_transfer.sealed_by", "session");
                if (initialContactFrom is not null) _initialContactFrom = null;
            }
            else
            {
                var plaintext = encoded.AsSpan(0, length).ToArray();
                try { sealedMessage = await Subscriber.SealKeyTransfer(Id, _handset!.TunnelId, plaintext, initialContactFrom); }
                catch (Exception e) when (e is OrleansException or TimeoutException)
                {
                    LogUndeliverable(Id, content.Kind.ToString(), "sealing failed: " + e.GetType().Name);
                    if (content is SaInstall) _handOverFailed = true;
                    GrainMetrics.KeyTransferUndelivered(content.Kind, KeyTransferOutcome.SealFailed);
                    return KeyTransferOutcome.SealFailed;
                }
                finally { Array.Clear(plaintext); }
                span?.SetTag("keyproxy.key_transfer.sealed_by", "subscriber");
                if (sealedMessage is not null && initialContactFrom is not null) _initialContactFrom = null;
            }
            if (sealedMessage is null)
            {
                LogUndeliverable(Id, content.Kind.ToString(), "the handset is no longer attached there");
                GrainMetrics.KeyTransferUndelivered(content.Kind, KeyTransferOutcome.NotAttached);
                if (!_closed && _ike?.State == IkeSessionState.Established)
                {
                    _ike.Delete(); // nobody to use the SA: do not keep it open at the peer
                }
                return KeyTransferOutcome.NotAttached;
            }
            GrainMetrics.KeyTransferSealed(content.Kind);
            _edge.KeyTransfers.Add(new SealedKeyTransfer(_handset!.TunnelId, _peerText!, sealedMessage, (byte)content.Kind, span?.Id));
            // Counted when handed to the edge; one the edge cannot deliver comes back as KeyTransferUndelivered.
            GrainMetrics.KeyTransferDelivered(content.Kind);
            if (content is SaDelete delete) GrainMetrics.SasDeleted(delete.Reason, delete.InboundSpis.Count);
            return KeyTransferOutcome.Sealed;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(encoded.AsSpan(0, length));
            ArrayPool<byte>.Shared.Return(encoded);
        }
    }

    /// <summary>
    /// The subscriber's grant, once, for a key transfer it covers: the install of the CHILD_SA whose SPI the subscriber
    /// listed at the start, or a failure (installs nothing); not an install whose INITIAL_CONTACT the subscriber must
    /// hear (<see cref="KeyTransferGrant.ReportInitialContact"/>). Null: the subscriber seals it.
    /// </summary>
    private KeyTransferGrant? TakeGrant(KeyTransferContent content, string? initialContactFrom)
    {
        if (_grant is not { } grant || grant.TunnelId != _handset!.TunnelId) return null;
        bool covered = content switch
        {
            SaInstall install => install.Sa.InboundSpi == _firstChildSpi && (initialContactFrom is null || !grant.ReportInitialContact),
            ProxyFailure => true,
            _ => false,
        };
        if (!covered) return null;
        _grant = null;
        return grant;
    }

    private async Task FailAsync(KeyProxyReason reason, string text)
    {
        LogRefused(Id, reason, text);
        GrainMetrics.SessionFailed(_role, reason);
        await AnswerWithFailureAsync(reason, text);
        await CloseQuietlyAsync();
    }

    /// <summary>
    /// Tells the handset why its request got no SA: sealed like any key transfer, or, when that cannot be sealed (the
    /// subscriber's storage is down, no grant), as the edge's own unsealed refusal, which carries nothing secret and which
    /// the edge sends for its profile decisions anyway. Either way the handset hears an answer (issue 15, finding 4).
    /// </summary>
    private async Task AnswerWithFailureAsync(KeyProxyReason reason, string text)
    {
        if (_requestAnswered) return;
        _requestAnswered = true;
        if (await DeliverAsync(new ProxyFailure(_requestId, reason, text))) return;
        _edge.Refusal = new SessionRefusal(_requestId, _peerText!, (ushort)reason, text);
    }

    private void ArmAnswerDeadline()
    {
        (_requestAnswered, _handOverFailed) = (false, false);
        var after = _options.RequestAnswerTimeout;
        if (_answerDeadline is null)
            _answerDeadline = this.RegisterGrainTimer(OnAnswerDeadlineAsync, new GrainTimerCreationOptions(after, Timeout.InfiniteTimeSpan) { KeepAlive = true });
        else
            _answerDeadline.Change(after, Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// The request is answered: its deadline timer goes, rather than staying registered on a live session to fire once
    /// for nothing (a grain turn per SA). The next request on this IKE SA arms a new one.
    /// </summary>
    private void DisarmAnswerDeadline()
    {
        _answerDeadline?.Dispose();
        _answerDeadline = null;
    }

    /// <summary>
    /// The handset's request is still unanswered after <see cref="ProxyNetworkOptions.RequestAnswerTimeout"/>: its SA was
    /// made but could not be sealed (storage down), or the subscriber could not be reached. The handset is refused with
    /// a reason before its own patience runs out, and the attempt ends at the peer too (RFC 7296 1.4.1), so that no SA
    /// stays there that the handset never got. Issue 15, finding 4: in a 30 s storage outage a handset's four attempts
    /// got neither an SA nor a refusal.
    /// </summary>
    private async Task OnAnswerDeadlineAsync(CancellationToken ct)
    {
        if (_requestAnswered || _closed || _handset is null || _peer is null) return;
        var seconds = _options.RequestAnswerTimeout.TotalSeconds;
        var (reason, text) = _handOverFailed
            ? (KeyProxyReason.Internal, $"the SA with {_peer} was made but could not be handed over within {seconds:F0} s; try again")
            : (KeyProxyReason.Timeout, $"no SA with {_peer} within {seconds:F0} s; try again");
        LogRefused(Id, reason, text);
        GrainMetrics.SessionFailed(_role, reason);
        await AnswerWithFailureAsync(reason, text);
        if (_ike is { State: IkeSessionState.Established }) await CloseAsync(text, SaDeleteReason.IkeSaClosed);
        else
        {
            if (_ike is { State: IkeSessionState.Authenticating })
            {
                _ike.Abandon();
                SendTakenDatagrams();
            }
            await CloseQuietlyAsync();
        }
        await PushEdgeActionsAsync();
    }

    /// <summary>Sends what the engine has queued for the peer outside a flush (a Delete the session sends on its way out); the rest is dropped.</summary>
    private void SendTakenDatagrams()
    {
        foreach (var output in _ike!.TakeOutputs())
            if (output is SendDatagram d) SendIke(d);
    }

    private async Task EndAsync(SaDeleteReason reason)
    {
        if (_closed) return;
        _closed = true;
        // A detached handset dropped its SAs already, and has no tunnel to tell.
        if (_childInboundSpis.Count > 0 && reason != SaDeleteReason.Detached)
        {
            if (!await DeliverAsync(new SaDelete(reason, [.. _childInboundSpis]))) _handsetDeleteLost = true;
            _childInboundSpis.Clear();
        }
        await CloseQuietlyAsync();
    }

    private async Task CloseQuietlyAsync()
    {
        _closed = true;
        _spans?.EndAll("closed");
        _timer?.Dispose();
        _timer = null;
        _lease?.Dispose();
        _lease = null;
        DisarmAnswerDeadline();
        if (_grant is not null)
        {
            Array.Clear(_grant.DeliveryKey);
            _grant = null;
        }
        if (_handset is not null)
        {
            // The routes go with this turn's actions, after its DELETE. Each best effort: a dead edge or subscriber
            // silo must not keep this activation from deactivating.
            _edge.Ended = true;
            if (!_inEdgeCall) await PushEdgeActionsAsync();
            if (_handsetDeleteLost) LogLeftToAudit(Id);
            else
            {
                try { await Subscriber.SessionEnded(Id); }
                catch (Exception e) when (e is OrleansException or TimeoutException) { LogSendFailed(Id, e.Message); }
            }
        }
        DeactivateOnIdle();
    }

    private void ArmTimer()
    {
        if (_closed || _ike?.NextDeadline is not { } due)
        {
            _timer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return;
        }
        var wait = due - DateTimeOffset.UtcNow;
        if (wait < TimeSpan.Zero) wait = TimeSpan.Zero;
        // A grain timer, not a reminder (issue 14): retransmission, liveness and rekey act on the in-memory IKE engine,
        // lost with the silo anyway (the peer's liveness check and the subscriber's audit clean up after it), and they
        // need sub-second precision that reminders (a minute at least, a storage write each) do not give.
        if (_timer is null)
            _timer = this.RegisterGrainTimer(OnTimerAsync, new GrainTimerCreationOptions(wait, Timeout.InfiniteTimeSpan) { KeepAlive = true });
        else
            _timer.Change(wait, Timeout.InfiniteTimeSpan);
    }

    private async Task OnTimerAsync(CancellationToken ct)
    {
        if (_ike is null || _closed) return;
        _ike.HandleTimer();
        try
        {
            await FlushAsync();
            await PushEdgeActionsAsync();
        }
        finally { ArmTimer(); } // whatever failed in the flush, the engine's next deadline still gets its timer
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Proxy session {Session} for {Nai} starts as {Role} with {Peer}")]
    private partial void LogStarted(Guid session, string nai, string role, string peer);

    [LoggerMessage(Level = LogLevel.Information, Message = "Proxy session {Session}: IKE SA {Spii:x16}/{Spir:x16} established with {PeerIdentity}")]
    private partial void LogEstablished(Guid session, ulong spii, ulong spir, string peerIdentity);

    [LoggerMessage(Level = LogLevel.Information, Message = "Proxy session {Session}: IKE SA closed ({Reason}) {Detail}")]
    private partial void LogClosed(Guid session, IkeCloseReason reason, string? detail);

    [LoggerMessage(Level = LogLevel.Information, Message = "Proxy session {Session} closing: {Reason}")]
    private partial void LogClosing(Guid session, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Proxy session {Session} refused: {Reason} {Text}")]
    private partial void LogRefused(Guid session, KeyProxyReason reason, string text);

    [LoggerMessage(Level = LogLevel.Information, Message = "Proxy session {Session}: IKE SA {Spii:x16} got nowhere and the handset asked again; starting a new IKE SA")]
    private partial void LogRestarting(Guid session, ulong spii);

    [LoggerMessage(Level = LogLevel.Information, Message = "Proxy session {Session}: request {RequestId} gets a CHILD_SA on the live IKE SA {Spii:x16}")]
    private partial void LogChildRequested(Guid session, uint requestId, ulong spii);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Proxy session {Session}: a call to its edge or subscriber failed: {Error}")]
    private partial void LogSendFailed(Guid session, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Proxy session {Session} deactivated by the runtime ({Reason}: {Description}) with its IKE SA up: deleting it at the peer, the handset's SAs by the subscriber's audit")]
    private partial void LogDeactivatedByRuntime(Guid session, DeactivationReasonCode reason, string description);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Proxy session {Session} ended without handing over the delete of its SAs at the handset: left listed for the subscriber's audit to delete them")]
    private partial void LogLeftToAudit(Guid session);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Proxy session {Session}: lease lost, but closing failed: {Error}")]
    private partial void LogLeaseCloseFailed(Guid session, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Proxy session {Session}: key transfer ({Kind}) not delivered: {Why}")]
    private partial void LogUndeliverable(Guid session, string kind, string why);
}
