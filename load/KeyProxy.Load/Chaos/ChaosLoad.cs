using System.Collections.Concurrent;
using System.Net;
using KeyProxy.Handset;
using KeyProxy.Ike.Protocol;
using KeyProxy.Load.Framework;
using KeyProxy.Load.Peers;
using KeyProxy.Load.Scenarios;

namespace KeyProxy.Load.Chaos;

/// <summary>The soak's load: fleet sizes, peers and the open-model rates (runs started per second) of each scenario.</summary>
public sealed record ChaosLoadOptions
{
    /// <summary>Subscribers that initiate SAs (flow 1), echo over them and roam; half start at each edge.</summary>
    public int Flow1Handsets { get; init; } = 48;

    /// <summary>Subscribers towards which peers initiate (flow 2), per edge; they stay at their edge.</summary>
    public int Flow2HandsetsPerEdge { get; init; } = 12;

    public int Responders { get; init; } = 16;

    public int Initiators { get; init; } = 8;

    public double Flow1Rate { get; init; } = 1;

    public double Flow2Rate { get; init; } = 0.5;

    public double EspRate { get; init; } = 5;

    public double RoamRate { get; init; } = 0.2;

    public double ProvisionRate { get; init; } = 0.5;

    public IPAddress ResponderNetwork { get; init; } = IPAddress.Parse("127.0.140.0");

    public IPAddress InitiatorNetwork { get; init; } = IPAddress.Parse("127.0.142.0");

    public TimeSpan EchoTimeout { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan AttachTimeout { get; init; } = TimeSpan.FromSeconds(15);
}

/// <summary>
/// The soak's steady open-model load on the cluster's two edges, made of the load tool's building blocks
/// (<see cref="HandsetFleet"/>, <see cref="SimulatedHandset"/>, <see cref="ResponderPeers"/> that echo ESP,
/// <see cref="InitiatorPeers"/>, <see cref="AdminClient"/>), as five scenarios run side by side by the framework's
/// <see cref="ScenarioRunner"/>: <c>flow1-sa</c> (a handset's protected packet to a responder peer it has no SA with:
/// proxy request to SA installed), <c>flow2-sa</c> (an initiator peer's IKE towards a handset's address to both halves),
/// <c>esp-echo</c> (a round trip through an established SA), <c>roam</c> (a flow-1 subscriber detaches at its edge and
/// attaches at the other) and <c>provision</c> (a new subscriber PUT through any silo that answers). Handsets check their
/// edge every 2 s (3 misses: attachment lost, attach again), so a killed edge's handsets come back by themselves.
/// </summary>
public sealed class ChaosLoad : IAsyncDisposable
{
    private readonly ChaosLoadOptions _options;
    private readonly ChaosCluster _cluster;
    private readonly Observations _observations;
    private readonly Invariants _invariants;
    private readonly List<ChaosHandset> _flow1 = [], _flow2 = [];
    private readonly List<HandsetFleet> _fleets = [];
    private readonly ConcurrentBag<string> _provisioned = [];
    private ResponderPeers? _responders;
    private InitiatorPeers? _initiators;

    public ChaosLoad(ChaosLoadOptions options, ChaosCluster cluster, Observations observations, Invariants invariants)
    {
        _options = options;
        _cluster = cluster;
        _observations = observations;
        _invariants = invariants;
    }

    public const string Flow1Prefix = "chaos-f1", Flow2PrefixA = "chaos-f2a", Flow2PrefixB = "chaos-f2b", ProvisionPrefix = "chaos-prov";

    public IEnumerable<ChaosHandset> Handsets => _flow1.Concat(_flow2);

    /// <summary>NAIs whose PUT the admin API acknowledged (the fleets' and the provision scenario's).</summary>
    public IReadOnlyCollection<string> Provisioned => _provisioned;

    /// <summary>Both peer sets' ESP SAs by peer address: where the invariants look for a handset SA's other half.</summary>
    public Dictionary<IPAddress, EspEcho> PeerSas()
    {
        var peers = new Dictionary<IPAddress, EspEcho>();
        foreach (var h in _responders!.Hosts) peers[h.Address] = h.Echo!;
        foreach (var h in _initiators!.Hosts) peers[h.Address] = h.Echo!;
        return peers;
    }

    /// <summary>Key transfers every handset instance counted as replayed (its counter seen before).</summary>
    public long KeyTransfersReplayed => _fleets.Sum(f => f.Handsets.Sum(h => { lock (h.Gate) return h.Handset.Counters.KeyTransfersReplayed; }));

    public long KeyTransfersRejected => _fleets.Sum(f => f.Handsets.Sum(h => { lock (h.Gate) return h.Handset.Counters.KeyTransfersRejected; }));

    public long KeyTransfersInstalled => _fleets.Sum(f => f.Handsets.Sum(h => { lock (h.Gate) return h.Handset.Counters.SasInstalled; }));

    public int Attached => _fleets.Sum(f => f.Attached);

    /// <summary>Provisions the fleets, starts the peers on the cluster's IKE ports, attaches every subscriber's current handset.</summary>
    public async Task InitAsync(CancellationToken ct)
    {
        string protect = _options.ResponderNetwork + "/24";
        int n1 = _options.Flow1Handsets, n2 = _options.Flow2HandsetsPerEdge;
        using (var admin = AdminClient.Create(_cluster.Silos[2].Api))
        {
            await admin.ProvisionFleetAsync(Flow1Prefix, n1, parallel: 8, ct);
            await admin.ProvisionFleetAsync(Flow2PrefixA, n2, parallel: 8, ct);
            await admin.ProvisionFleetAsync(Flow2PrefixB, n2, parallel: 8, ct);
        }
        for (int i = 0; i < n1; i++) _provisioned.Add(HandsetFleet.Nai(Flow1Prefix, i));
        for (int i = 0; i < n2; i++) _provisioned.Add(HandsetFleet.Nai(Flow2PrefixA, i));
        for (int i = 0; i < n2; i++) _provisioned.Add(HandsetFleet.Nai(Flow2PrefixB, i));

        _responders = new ResponderPeers(_options.Responders, _options.ResponderNetwork, _cluster.IkePort, _cluster.NatTPort, echoEsp: true);
        _initiators = new InitiatorPeers(_options.Initiators, _options.InitiatorNetwork, _cluster.IkePort, _cluster.NatTPort, echoEsp: true);

        static HandsetConfig Configure(HandsetConfig c) => c with { KeepaliveInterval = ChaosSettings.KeepaliveInterval, KeepaliveMisses = ChaosSettings.KeepaliveMisses };
        var f1A = new HandsetFleet(_cluster.EdgeA.Access!, n1, 2, Flow1Prefix, protect, Configure);
        var f1B = new HandsetFleet(_cluster.EdgeB.Access!, n1, 2, Flow1Prefix, protect, Configure);
        var f2A = new HandsetFleet(_cluster.EdgeA.Access!, n2, 1, Flow2PrefixA, null, Configure);
        var f2B = new HandsetFleet(_cluster.EdgeB.Access!, n2, 1, Flow2PrefixB, null, Configure);
        _fleets.AddRange([f1A, f1B, f2A, f2B]);
        for (int i = 0; i < n1; i++)
        {
            var h = new ChaosHandset(HandsetFleet.Nai(Flow1Prefix, i), "flow-1", f1A.Handsets[i], f1B.Handsets[i], i % 2, OnEvent);
            h.Other!.Retire();
            _flow1.Add(h);
        }
        for (int i = 0; i < n2; i++) _flow2.Add(new ChaosHandset(HandsetFleet.Nai(Flow2PrefixA, i), "flow-2", f2A.Handsets[i], null, 0, OnEvent));
        for (int i = 0; i < n2; i++) _flow2.Add(new ChaosHandset(HandsetFleet.Nai(Flow2PrefixB, i), "flow-2", null, f2B.Handsets[i], 1, OnEvent));

        int failures = 0;
        await Parallel.ForEachAsync(Handsets, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (h, c) =>
        {
            HandsetEvent outcome;
            try { outcome = await h.Handset.AttachAsync(_options.AttachTimeout, c); }
            catch (TimeoutException) { outcome = new AttachFailed(null, "timeout"); }
            if (outcome is not KeyProxy.Handset.Attached) Interlocked.Increment(ref failures);
        });
        if (failures > 0) throw new InvalidOperationException($"{failures} of {_flow1.Count + _flow2.Count} handsets did not attach before the load");
    }

    private void OnEvent(ChaosHandset handset, HandsetEvent e, DateTimeOffset at)
    {
        if (e is ProxyRequested { Attempt: > 1 }) _observations.Add(Observations.Kind.ProxyRetry);
    }

    /// <summary>The five scenarios with their open-model rates.</summary>
    public IReadOnlyList<(Scenario Scenario, double Rate)> Scenarios() =>
    [
        (new Scenario("flow1-sa", [new Step("flow1-sa", Flow1Async) { Unit = "SAs" }]), _options.Flow1Rate),
        (new Scenario("flow2-sa", [new Step("flow2-sa", Flow2Async) { Unit = "SAs" }]), _options.Flow2Rate),
        (new Scenario("esp-echo", [new Step("esp-echo", EchoAsync) { Unit = "round trips" }]), _options.EspRate),
        (new Scenario("roam", [new Step("roam", RoamAsync) { Unit = "roams" }]), _options.RoamRate),
        (new Scenario("provision", [new Step("provision", ProvisionAsync) { Unit = "profiles" }]), _options.ProvisionRate),
    ];

    private IPAddress Responder(int i) => ProxiedFleet.Peer(_options.ResponderNetwork, _options.Responders, i);

    /// <summary>The next free subscriber of <paramref name="group"/> from <paramref name="start"/> on (its gate taken), or null when all are busy.</summary>
    private static ChaosHandset? TakeFree(List<ChaosHandset> group, long start)
    {
        for (int k = 0; k < group.Count; k++)
        {
            var h = group[(int)((start + k) % group.Count)];
            if (h.Busy.Wait(0)) return h;
        }
        return null;
    }

    private async Task<StepResult> Flow1Async(StepContext context)
    {
        var h = TakeFree(_flow1, context.InvocationNumber);
        if (h is null) return StepResult.Fail("all busy");
        try
        {
            var handset = h.Handset;
            if (handset.Address is not { } source) return StepResult.Fail("not attached");
            IPAddress? peer = null;
            for (int k = 0; k < _options.Responders && peer is null; k++)
            {
                var candidate = Responder((int)(context.InvocationNumber + k));
                if (!h.HasSaWith(candidate)) peer = candidate;
            }
            if (peer is null) return StepResult.Fail("an SA with every peer already");
            int attachments = h.Attachments;
            var packet = ProxiedSaScenario.Udp(source, (ushort)(20000 + context.InvocationNumber % 40000), peer, 7, "chaos flow 1");
            var started = DateTimeOffset.UtcNow;
            object outcome;
            try { outcome = await handset.SendProtectedAsync(packet, ChaosSettings.ProxyWait, context.CancellationToken); }
            catch (TimeoutException) { outcome = "no answer"; }
            var took = DateTimeOffset.UtcNow - started;
            bool sameAttachment = h.Attachments == attachments && handset.State == HandsetState.Attached;
            switch (outcome)
            {
                case SaInstalled when took <= ChaosSettings.ProxyAnswerBound:
                    return StepResult.Ok();
                case SaInstalled:
                    if (sameAttachment) _invariants.Add("proxy-answered", $"{h.Nai} at {h.EdgeName}: proxy request to {peer} answered with an SA after {took.TotalSeconds:F1} s (sent {started:HH:mm:ss.fff})");
                    return StepResult.Ok(status: "late");
                case ProxyRefused r:
                    _observations.Add(Observations.Kind.ExchangeFailed);
                    return StepResult.Fail($"refused: {r.Reason}");
                default:
                    _observations.Add(Observations.Kind.ExchangeFailed);
                    var what = outcome switch { ProxyRequestTimedOut => "request timed out", HandsetPacketResult p => $"send: {p.Status} {p.Reason}", string s => s, _ => outcome.GetType().Name };
                    if (outcome is HandsetPacketResult) return StepResult.Fail(what);
                    if (!sameAttachment) return StepResult.Fail(what + " (attachment ended meanwhile)");
                    _invariants.Add("proxy-answered", $"{h.Nai} at {h.EdgeName}: proxy request to {peer} sent {started:HH:mm:ss.fff}: {what} after {took.TotalSeconds:F1} s, attached throughout");
                    return StepResult.Fail(what);
            }
        }
        finally
        {
            h.Busy.Release();
        }
    }

    private async Task<StepResult> Flow2Async(StepContext context)
    {
        var h = TakeFree(_flow2, context.InvocationNumber);
        if (h is null) return StepResult.Fail("all busy");
        try
        {
            var handset = h.Handset;
            if (handset.Address is not { } address) return StepResult.Fail("not attached");
            var installed = handset.ExpectSaInstalled();
            var peer = _initiators!.Hosts[(int)((context.InvocationNumber / _flow2.Count + context.InvocationNumber) % _initiators.Hosts.Count)];
            var child = peer.InitiateAsync(new IPEndPoint(address, _cluster.IkePort), _cluster.NatTPort, [TrafficSelectorNarrowing.ForHost(address)]);
            try
            {
                await Task.WhenAll(installed, child).WaitAsync(ChaosSettings.ProxyWait, context.CancellationToken);
            }
            catch (TimeoutException)
            {
                _observations.Add(Observations.Kind.ExchangeFailed);
                return StepResult.Fail(installed.IsCompleted ? "timeout (peer's IKE_AUTH)" : child.IsCompleted ? "timeout (no key transfer)" : "timeout");
            }
            catch (IkeInitiationFailedException e)
            {
                _observations.Add(Observations.Kind.ExchangeFailed);
                return StepResult.Fail($"peer: {e.Reason}");
            }
            return installed.Result.InboundSpi == child.Result.OutboundSpi && installed.Result.OutboundSpi == child.Result.InboundSpi
                ? StepResult.Ok()
                : StepResult.Ok(status: "another SA installed meanwhile");
        }
        finally
        {
            h.Busy.Release();
        }
    }

    private async Task<StepResult> EchoAsync(StepContext context)
    {
        // A free flow-1 subscriber holding an SA, from a spread start.
        ChaosHandset? h = null;
        HandsetSa? sa = null;
        for (int k = 0; k < _flow1.Count && h is null; k++)
        {
            var candidate = _flow1[(int)((context.InvocationNumber * 7 + k) % _flow1.Count)];
            if (candidate.AnyLiveSa() is null || !candidate.Busy.Wait(0)) continue;
            if ((sa = candidate.AnyLiveSa()) is null) candidate.Busy.Release();
            else h = candidate;
        }
        if (h is null || sa is null) return StepResult.Fail("no free handset with an SA");
        try
        {
            object outcome;
            try { outcome = await h.Handset.EchoAsync(sa.Peer, 7, 64, _options.EchoTimeout, context.CancellationToken); }
            catch (TimeoutException)
            {
                _observations.Add(Observations.Kind.EspLost);
                return StepResult.Fail("lost");
            }
            return outcome switch
            {
                long bytes => StepResult.Ok(bytes),
                HandsetPacketResult p => StepResult.Fail($"send: {p.Status} {p.Reason}"),
                _ => StepResult.Fail("unexpected " + outcome.GetType().Name),
            };
        }
        finally
        {
            h.Busy.Release();
        }
    }

    private async Task<StepResult> RoamAsync(StepContext context)
    {
        var h = TakeFree(_flow1, context.InvocationNumber * 13 + 5);
        if (h is null) return StepResult.Fail("all busy");
        try
        {
            // A handset attaching again by itself (its edge restarted) is left to it: not a roam.
            if (h.Handset.State != HandsetState.Attached) return StepResult.Fail("not attached");
            string note = "";
            // The subscriber moves on whether or not its old edge acknowledges the detach (it may be the dead one).
            try { await h.Handset.DetachAsync(TimeSpan.FromSeconds(15), context.CancellationToken); }
            catch (TimeoutException) { note = " (detach unacknowledged)"; }
            h.SwitchInstance();
            HandsetEvent outcome;
            try { outcome = await h.Handset.AttachAsync(_options.AttachTimeout, context.CancellationToken); }
            catch (TimeoutException) { return StepResult.Fail($"timeout (attach at {h.EdgeName})"); }
            return outcome is KeyProxy.Handset.Attached ? StepResult.Ok(status: note.Length == 0 ? null : "ok" + note)
                : StepResult.Fail($"attach at {h.EdgeName}: {(outcome as AttachFailed)?.Text}{note}");
        }
        finally
        {
            h.Busy.Release();
        }
    }

    private async Task<StepResult> ProvisionAsync(StepContext context)
    {
        var nai = HandsetFleet.Nai(ProvisionPrefix, (int)context.InvocationNumber);
        var order = _cluster.Silos.OrderBy(_ => Random.Shared.Next()).ToList();
        string? last = null;
        foreach (var silo in order)
        {
            if (!_cluster.IsRunning(silo.Name)) continue;
            using var admin = AdminClient.Create(silo.Api);
            try
            {
                await admin.ProvisionAsync(nai, HandsetFleet.Secret(ProvisionPrefix, (int)context.InvocationNumber), context.CancellationToken);
                _provisioned.Add(nai);
                return StepResult.Ok();
            }
            catch (HttpRequestException e)
            {
                last = $"{silo.Name}: {e.Message}"; // not reachable: the next silo
            }
            catch (Exception e) when (e is InvalidOperationException or TaskCanceledException)
            {
                _observations.Add(Observations.Kind.ProvisionFailed);
                return StepResult.Fail(e is TaskCanceledException ? "timeout" : "refused: " + e.Message.Split(':').Last().Trim());
            }
        }
        _observations.Add(Observations.Kind.ProvisionFailed);
        return StepResult.Fail("no silo answered" + (last is null ? "" : $" ({last})"));
    }

    /// <summary>Attaches the soak made for handsets that had given up (their own attempt after a lost attachment failed).</summary>
    public long Reattached => Interlocked.Read(ref _reattached);

    private long _reattached;

    /// <summary>
    /// A handset whose attachment was lost attaches again by itself once; when that attempt fails too (its edge still down,
    /// storage down) it stays detached, as the handset library leaves retrying to its user. This loop is that user: every
    /// 2 s, each subscriber's current handset that is detached and not busy attaches again.
    /// </summary>
    public async Task KeepAttachedAsync(CancellationToken ct)
    {
        using var tick = new PeriodicTimer(TimeSpan.FromSeconds(2));
        try
        {
            while (await tick.WaitForNextTickAsync(ct))
            {
                var waiting = new List<Task>();
                foreach (var h in Handsets)
                {
                    if (h.Handset.State != HandsetState.Detached || !h.Busy.Wait(0)) continue;
                    waiting.Add(Task.Run(async () =>
                    {
                        try
                        {
                            if (h.Handset.State != HandsetState.Detached) return;
                            Interlocked.Increment(ref _reattached);
                            try { await h.Handset.AttachAsync(_options.AttachTimeout, ct); }
                            catch (Exception e) when (e is TimeoutException or OperationCanceledException) { }
                        }
                        finally
                        {
                            h.Busy.Release();
                        }
                    }, CancellationToken.None));
                }
                await Task.WhenAll(waiting);
            }
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>Detaches every handset (each awaits its edge's acknowledgement or gives up).</summary>
    public async Task DetachAllAsync()
    {
        await Parallel.ForEachAsync(Handsets, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (h, _) =>
        {
            await h.Busy.WaitAsync();
            try
            {
                // Both instances: one a roam left behind may have finished an attach it had started.
                foreach (var instance in new[] { h.Handset, h.Other })
                {
                    if (instance is null) continue;
                    instance.Retire(); // attaches no more by itself
                    try { await instance.DetachAsync(TimeSpan.FromSeconds(15), CancellationToken.None); }
                    catch (TimeoutException) { }
                }
            }
            finally
            {
                h.Busy.Release();
            }
        });
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var f in _fleets) await f.DisposeAsync();
        if (_responders is not null) await _responders.DisposeAsync();
        if (_initiators is not null) await _initiators.DisposeAsync();
    }
}
