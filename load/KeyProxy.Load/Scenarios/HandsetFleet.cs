using System.Net;
using System.Net.Sockets;
using System.Text;
using KeyProxy.Handset;
using KeyProxy.Ike.Protocol;
using KeyProxy.Ipsec.Policy;
using KeyProxy.Primitives;
using KeyProxy.Wire.Access;

namespace KeyProxy.Load.Scenarios;

/// <summary>
/// Many simulated handsets over a few <see cref="AccessSocket"/>s (handset i uses socket i mod
/// count), with one timer loop for all their retransmissions. Handset i is the subscriber
/// <see cref="Nai"/>(i) with secret <see cref="Secret"/>(i).
/// </summary>
public sealed class HandsetFleet : IAsyncDisposable
{
    private readonly AccessSocket[] _sockets;
    private readonly SimulatedHandset[] _handsets;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _timers;

    /// <param name="protect">
    /// A prefix the handsets protect (SPD: protect to it, bypass the rest; RFC 4301 4.4.1), or null for
    /// handsets without policies (attach only).
    /// </param>
    /// <param name="configure">Changes each handset's configuration (e.g. a shorter access-link liveness), or null.</param>
    public HandsetFleet(IPEndPoint edge, int handsets, int sockets, string naiPrefix, string? protect = null, Func<HandsetConfig, HandsetConfig>? configure = null)
    {
        NaiPrefix = naiPrefix;
        _sockets = new AccessSocket[Math.Clamp(sockets, 1, Math.Max(1, handsets))];
        for (int s = 0; s < _sockets.Length; s++) _sockets[s] = new AccessSocket(edge);
        _handsets = new SimulatedHandset[handsets];
        for (int i = 0; i < handsets; i++)
        {
            var config = new HandsetConfig
            {
                Identity = new SubscriberIdentity(IdentityType.Nai, Nai(naiPrefix, i)),
                Secret = Encoding.UTF8.GetBytes(Secret(naiPrefix, i)),
                Policies = protect is null ? [] :
                [
                    new SecurityPolicy(PolicyAction.Protect, Selectors.Any(AddressFamily.InterNetwork), Selectors.Prefix(protect), "protect " + protect),
                    new SecurityPolicy(PolicyAction.Bypass, Selectors.Any(AddressFamily.InterNetwork), Selectors.Any(AddressFamily.InterNetwork), "clear"),
                ],
            };
            if (configure is not null) config = configure(config);
            _handsets[i] = new SimulatedHandset(i, new Handset.Handset(config), _sockets[i % _sockets.Length]);
        }
        _timers = Task.Run(TimerLoop);
    }

    public string NaiPrefix { get; }

    public IReadOnlyList<SimulatedHandset> Handsets => _handsets;

    public IReadOnlyList<AccessSocket> Sockets => _sockets;

    public int Attached
    {
        get
        {
            int n = 0;
            foreach (var h in _handsets) if (h.State == HandsetState.Attached) n++;
            return n;
        }
    }

    /// <summary>SA pairs installed over all handsets.</summary>
    public int InstalledSas
    {
        get
        {
            int n = 0;
            foreach (var h in _handsets) n += h.InstalledSas;
            return n;
        }
    }

    /// <summary>The NAI of load handset <paramref name="index"/>, e.g. <c>load-000042@load.keyproxy.test</c>.</summary>
    public static string Nai(string prefix, int index) => $"{prefix}-{index:D6}@load.keyproxy.test";

    /// <summary>Its subscriber secret (UTF-8, over 16 bytes; a load-test value, never for a real deployment).</summary>
    public static string Secret(string prefix, int index) => $"keyproxy-load-secret-{prefix}-{index:D6}";

    private async Task TimerLoop()
    {
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        try
        {
            while (await tick.WaitForNextTickAsync(_stop.Token))
            {
                var now = SystemClock.Instance.UtcNow;
                foreach (var s in _sockets) s.HandleTimers(_handsets.Where(h => h.Socket == s), now);
            }
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>
    /// Attaches handsets [<paramref name="from"/>, <paramref name="to"/>) with <paramref name="parallel"/> attaches in
    /// flight; returns how many did not attach (rejected or no answer within <paramref name="timeout"/>).
    /// </summary>
    public async Task<int> AttachAllAsync(TimeSpan timeout, int parallel, CancellationToken ct, int from = 0, int to = -1)
    {
        int failures = 0;
        await Parallel.ForAsync(from, to < 0 ? _handsets.Length : to, new ParallelOptions { MaxDegreeOfParallelism = parallel, CancellationToken = ct },
            async (i, c) =>
            {
                HandsetEvent outcome;
                try { outcome = await _handsets[i].AttachAsync(timeout, c); }
                catch (TimeoutException) { outcome = new AttachFailed(null, "timeout"); }
                if (outcome is not KeyProxy.Handset.Attached) Interlocked.Increment(ref failures);
            });
        return failures;
    }

    /// <summary>Detaches every attached handset (best effort) and waits a moment for the datagrams to leave.</summary>
    public async Task DetachAllAsync()
    {
        foreach (var h in _handsets) h.Detach();
        await Task.Delay(200);
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        try { await _timers; } catch (Exception) { /* ends on cancellation */ }
        foreach (var s in _sockets) await s.DisposeAsync();
        foreach (var h in _handsets) lock (h.Gate) h.Handset.Dispose();
        _stop.Dispose();
    }
}
