using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using KeyProxy.Load.Framework;
using KeyProxy.Load.Scenarios;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Trace;

namespace KeyProxy.Load.Tests;

/// <summary>
/// An in-process silo with tracing on (KeyProxy:Tracing:Enabled), its spans collected in memory by OpenTelemetry's
/// in-memory exporter and its log records captured as text; proxied exchanges are run against it with the load tool's
/// scenarios (flow 1: responder peers of our own engine; flow 2: initiator peers of our own engine, towards the handsets'
/// addresses on 500/4500, so as root).
/// </summary>
internal sealed class TracedSilo : IAsyncDisposable
{
    private readonly ConcurrentQueue<Activity> _spans;
    private readonly CapturedLogText _logs;

    private TracedSilo(LoadSmoke smoke, ConcurrentQueue<Activity> spans, CapturedLogText logs) => (Smoke, _spans, _logs) = (smoke, spans, logs);

    public LoadSmoke Smoke { get; }

    /// <summary>The spans exported so far.</summary>
    public IReadOnlyList<Activity> Exported => [.. _spans];

    /// <summary>The log lines captured so far.</summary>
    public IReadOnlyList<string> LogLines => _logs.Lines;

    public static async Task<TracedSilo> StartAsync(string pool, string name, CancellationToken ct, params string[] settings)
    {
        var logs = new CapturedLogText();
        var spans = new ConcurrentQueue<Activity>();
        var smoke = await LoadSmoke.StartAsync(pool, name, ct, builder =>
        {
            builder.Services.ConfigureOpenTelemetryTracerProvider(t => t.AddInMemoryExporter(new QueueCollection(spans)));
            builder.Logging.AddProvider(logs);
        }, ["--KeyProxy:Tracing:Enabled=true", "--Logging:LogLevel:KeyProxy=Debug", .. settings]);
        return new TracedSilo(smoke, spans, logs);
    }

    /// <summary>Flow 1: <paramref name="handsets"/> handsets each ask the proxy for an SA towards a responder peer; all must succeed.</summary>
    public async Task RunHandsetInitiatedAsync(string naiPrefix, int handsets, IPAddress peerNetwork, CancellationToken ct)
    {
        await using var scenario = new ProxiedSaScenario(new ProxiedSaOptions(Smoke.Gateway.AccessEndPoint, Smoke.Api, handsets, Sockets: 1,
            naiPrefix, Peers: 1, Smoke.PeerIkePort, Smoke.PeerNatTPort) { PeerNetwork = peerNetwork, DetachAtEnd = false });
        await RunAllOkAsync(scenario.Build(), handsets, Smoke.ReportDir, ct);
    }

    /// <summary>Flow 2: a peer initiates towards each of <paramref name="handsets"/> handsets; all must get their SA.</summary>
    public async Task RunPeerInitiatedAsync(string naiPrefix, int handsets, IPAddress peerNetwork, CancellationToken ct)
    {
        await using var scenario = new PeerInitiatedScenario(new PeerInitiatedOptions(Smoke.Gateway.AccessEndPoint, Smoke.Api, handsets, Sockets: 1,
            naiPrefix, Peers: 1, Smoke.PeerIkePort, Smoke.PeerNatTPort) { PeerNetwork = peerNetwork, DetachAtEnd = false });
        await RunAllOkAsync(scenario.Build(), handsets, Smoke.ReportDir, ct);
    }

    /// <summary>Runs <paramref name="scenario"/>'s one step <paramref name="runs"/> times within a second; every run must succeed.</summary>
    public static async Task RunAllOkAsync(Scenario scenario, int runs, string reportDir, CancellationToken ct)
    {
        var (run, _) = await LoadSession.RunAsync(scenario, new InjectRate(runs, TimeSpan.FromSeconds(1)), reportDir, [], TextWriter.Null, live: false, ct);
        var step = Assert.Single(Assert.Single(run.Scenarios).Steps);
        Assert.True(step.Failed == 0 && step.Ok == runs, $"{step.Ok} ok; " + string.Join("; ", step.Failures.Select(f => $"{f.Value} × {f.Key}")));
    }

    /// <summary>
    /// The exported spans of the traces that some edge span of a subscriber <c>NAIPREFIX-n</c> is in. The activity
    /// sources are process-wide, so this silo's exporter also gets the spans of other silos that tests run in this
    /// process at the same time (a silo process has one host, and only its own).
    /// </summary>
    public IReadOnlyList<Activity> TracesOf(string naiPrefix)
    {
        var spans = Exported;
        var traces = spans.Where(s => s.Source.Name == "KeyProxy.Edge" && SpanTree.Tag(s, "keyproxy.subscriber.nai")?.StartsWith(naiPrefix + "-", StringComparison.Ordinal) == true)
            .Select(s => s.TraceId).ToHashSet();
        return [.. spans.Where(s => traces.Contains(s.TraceId))];
    }

    /// <summary>
    /// Waits (up to 10 s) until <paramref name="done"/> holds for <see cref="TracesOf"/> <paramref name="naiPrefix"/>:
    /// grain calls end just after the handset has its SA.
    /// </summary>
    public async Task<IReadOnlyList<Activity>> SpansWhenAsync(string naiPrefix, Func<IReadOnlyList<Activity>, bool> done, CancellationToken ct)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!done(TracesOf(naiPrefix)) && DateTime.UtcNow < until) await Task.Delay(50, ct);
        return TracesOf(naiPrefix);
    }

    public ValueTask DisposeAsync() => Smoke.DisposeAsync();

    /// <summary>The in-memory exporter's collection over a concurrent queue (spans end on several threads).</summary>
    private sealed class QueueCollection(ConcurrentQueue<Activity> queue) : ICollection<Activity>
    {
        public int Count => queue.Count;
        public bool IsReadOnly => false;
        public void Add(Activity item) => queue.Enqueue(item);
        public void Clear() => queue.Clear();
        public bool Contains(Activity item) => queue.Contains(item);
        public void CopyTo(Activity[] array, int arrayIndex) => queue.ToArray().CopyTo(array, arrayIndex);
        public bool Remove(Activity item) => throw new NotSupportedException();
        public IEnumerator<Activity> GetEnumerator() => queue.GetEnumerator();
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
