using System.Net;
using KeyProxy.Handset;
using KeyProxy.Load.Framework;
using KeyProxy.Load.Peers;

namespace KeyProxy.Load.Scenarios;

/// <summary>
/// What the <c>roam</c> scenario needs: two edges of one cluster (their access endpoints), the admin API of
/// either, the fleet's shape, whether a handset says goodbye at A first, and optionally responder peers for a
/// first SA through B (<see cref="Peers"/> 0: none).
/// </summary>
public sealed record RoamOptions(IPEndPoint EdgeA, IPEndPoint EdgeB, Uri Api, int Handsets, int Sockets, string NaiPrefix)
{
    /// <summary>Detach at A (awaiting the DetachAck) before attaching at B; otherwise the handset turns up at B without a word and B's attach revokes A's copy.</summary>
    public bool DetachFirst { get; init; } = true;

    /// <summary>Responder peers for the optional step <c>first-sa</c> (a proxied exchange through B); 0 skips it.</summary>
    public int Peers { get; init; }

    public int PeerIkePort { get; init; } = 10500;

    public int PeerNatTPort { get; init; } = 14500;

    public IPAddress PeerNetwork { get; init; } = IPAddress.Parse("127.0.134.0");

    public TimeSpan AttachTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan SaTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public int AttachParallelism { get; init; } = 32;

    public bool DetachAtEnd { get; init; } = true;
}

/// <summary>
/// <c>roam</c> (DESIGN flow 4, claims 7-10): init provisions N subscribers and attaches them all at edge A; invocation
/// i moves handset i to edge B (a second handset instance with the same identity on sockets towards B). The step
/// <c>roam</c> measures, with <see cref="RoamOptions.DetachFirst"/>, the detach at A (to its DetachAck) plus the
/// attach at B (to Attached), otherwise the attach at B alone (the subscriber grain revokes A's copy and closes the
/// old sessions before it accepts). With peers, the step <c>first-sa</c> then measures the first proxied SA through B.
/// </summary>
public sealed class RoamScenario : IAsyncDisposable
{
    private readonly RoamOptions _options;
    private HandsetFleet? _atA;
    private HandsetFleet? _atB;
    private ResponderPeers? _peers;

    public RoamScenario(RoamOptions options) => _options = options;

    public HandsetFleet? FleetA => _atA;

    public HandsetFleet? FleetB => _atB;

    public ResponderPeers? Peers => _peers;

    /// <summary>Handsets the init could not attach at A.</summary>
    public int AttachFailures { get; private set; }

    /// <summary>Handsets attached at B when the load ended.</summary>
    public int AttachedAtB { get; private set; }

    public Scenario Build()
    {
        var steps = new List<Step> { new("roam", RoamOne) };
        if (_options.Peers > 0) steps.Add(new Step("first-sa", FirstSa) { Unit = "SAs" });
        return new Scenario("roam", steps)
        {
            Init = InitAsync,
            Clean = CleanAsync,
            MaxInvocations = _options.Handsets,
        };
    }

    private string? PeerPrefix => _options.Peers > 0 ? _options.PeerNetwork + "/24" : null;

    private async Task InitAsync(ScenarioInitContext context)
    {
        var ct = context.CancellationToken;
        if (_options.Peers > 0) _peers = new ResponderPeers(_options.Peers, _options.PeerNetwork, _options.PeerIkePort, _options.PeerNatTPort);
        (_atA, AttachFailures) = await ProxiedFleet.AttachAsync(_options.Api, _options.EdgeA, _options.Handsets, _options.Sockets, _options.NaiPrefix,
            PeerPrefix, _options.AttachTimeout, _options.AttachParallelism, ct);
        _atB = new HandsetFleet(_options.EdgeB, _options.Handsets, _options.Sockets, _options.NaiPrefix, PeerPrefix);
    }

    private async Task<StepResult> RoamOne(StepContext context)
    {
        int index = (int)context.InvocationNumber;
        var (atA, atB) = (_atA!.Handsets[index], _atB!.Handsets[index]);
        long before = atA.Bytes + atB.Bytes;
        if (atA.State != HandsetState.Attached) return StepResult.Fail("not attached at A");
        try
        {
            if (_options.DetachFirst)
            {
                Detached detached;
                try { detached = await atA.DetachAsync(_options.AttachTimeout, context.CancellationToken); }
                catch (TimeoutException) { return StepResult.Fail("timeout (detach at A)", atA.Bytes + atB.Bytes - before); }
                if (!detached.Acknowledged) return StepResult.Fail("detach at A not acknowledged", atA.Bytes + atB.Bytes - before);
            }
            // The instance at A is no longer the subscriber's handset: it must not re-attach by itself.
            atA.Retire();
            var outcome = await atB.AttachAsync(_options.AttachTimeout, context.CancellationToken);
            long bytes = atA.Bytes + atB.Bytes - before;
            return outcome switch
            {
                Attached => StepResult.Ok(bytes),
                AttachFailed f => StepResult.Fail(f.Reason is { } r ? $"rejected at B: {r}" : f.Text, bytes),
                _ => StepResult.Fail("unexpected " + outcome.GetType().Name, bytes),
            };
        }
        catch (TimeoutException)
        {
            return StepResult.Fail("timeout (attach at B)", atA.Bytes + atB.Bytes - before);
        }
    }

    private async Task<StepResult> FirstSa(StepContext context)
    {
        int index = (int)context.InvocationNumber;
        var handset = _atB!.Handsets[index];
        long before = handset.Bytes;
        if (handset.Address is not { } source) return StepResult.Fail("not attached at B");
        var peer = ProxiedFleet.Peer(_options.PeerNetwork, _options.Peers, index);
        object outcome;
        try { outcome = await handset.SendProtectedAsync(ProxiedSaScenario.Udp(source, (ushort)(20000 + index % 40000), peer, 7, "roamed " + index), _options.SaTimeout, context.CancellationToken); }
        catch (TimeoutException) { return StepResult.Fail("timeout", handset.Bytes - before); }
        return ProxiedFleet.SaOutcome(outcome, handset.Bytes - before);
    }

    private async Task CleanAsync(CancellationToken ct)
    {
        AttachedAtB = _atB?.Attached ?? 0;
        if (!_options.DetachAtEnd) return;
        if (_atB is not null) await _atB.DetachAllAsync();
        if (_atA is not null)
            foreach (var h in _atA.Handsets)
                if (!h.Retired) h.Detach();
    }

    public async ValueTask DisposeAsync()
    {
        if (_atB is not null) await _atB.DisposeAsync();
        if (_atA is not null) await _atA.DisposeAsync();
        if (_peers is not null) await _peers.DisposeAsync();
    }
}
