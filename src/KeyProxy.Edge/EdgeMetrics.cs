using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace KeyProxy.Edge;

/// <summary>
/// The edge's instruments (System.Diagnostics.Metrics, meter "KeyProxy.Edge"): packets per class,
/// drops per reason, grain calls and their latency. Also kept as plain counters so tests and the
/// admin API can read them without a listener.
/// </summary>
public sealed class EdgeMetrics : IDisposable
{
    public const string MeterName = "KeyProxy.Edge";

    private readonly Meter _meter;
    private readonly Counter<long> _packets;
    private readonly Counter<long> _drops;
    private readonly Counter<long> _grainCalls;
    private readonly Histogram<double> _grainCallLatency;
    private readonly long[] _packetCounts = new long[Enum.GetValues<EdgePacketClass>().Length];
    private readonly long[] _dropCounts = new long[Enum.GetValues<EdgeDropReason>().Length];
    private long _grainCallCount;

    public EdgeMetrics(string edgeId, IMeterFactory? meterFactory = null)
    {
        EdgeId = edgeId;
        var tags = new[] { new KeyValuePair<string, object?>("edge", edgeId) };
        _meter = meterFactory?.Create(new MeterOptions(MeterName) { Tags = tags }) ?? new Meter(MeterName, null, tags);
        _packets = _meter.CreateCounter<long>("keyproxy.edge.packets", "{packet}", "Packets handled, by class (S21-S24)");
        _drops = _meter.CreateCounter<long>("keyproxy.edge.drops", "{packet}", "Packets dropped, by reason");
        _grainCalls = _meter.CreateCounter<long>("keyproxy.edge.grain_calls", "{call}", "Grain calls made by the edge, by method");
        _grainCallLatency = _meter.CreateHistogram("keyproxy.edge.grain_call.duration", "s", "Latency of the edge's grain calls",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30] });
    }

    /// <summary>
    /// Gauges of the edge's state, read when a listener collects: attached handsets, half-open responder SAs and the
    /// half-open cap (an alert compares the two).
    /// </summary>
    public void ObserveState(Func<int> attached, Func<int> halfOpen, int maxHalfOpen)
    {
        _meter.CreateObservableGauge("keyproxy.edge.attached", () => attached(), "{handset}", "Handsets attached to this edge");
        _meter.CreateObservableGauge("keyproxy.edge.half_open", () => halfOpen(), "{sa}", "Responder IKE SAs not yet established (RFC 7296 2.6)");
        _meter.CreateObservableGauge("keyproxy.edge.half_open.limit", () => maxHalfOpen, "{sa}", "The edge's cap on half-open IKE SAs (KeyProxy:Edge:MaxHalfOpen)");
    }

    public string EdgeId { get; }

    public long Packets(EdgePacketClass c) => Interlocked.Read(ref _packetCounts[(int)c]);

    public long Drops(EdgeDropReason r) => Interlocked.Read(ref _dropCounts[(int)r]);

    public long GrainCalls => Interlocked.Read(ref _grainCallCount);

    public void Packet(EdgePacketClass c)
    {
        Interlocked.Increment(ref _packetCounts[(int)c]);
        if (_packets.Enabled) _packets.Add(1, new KeyValuePair<string, object?>("class", ClassNames[(int)c]));
    }

    /// <summary><paramref name="count"/> packets of one class at once (a batch sent in one system call).</summary>
    public void Packet(EdgePacketClass c, int count)
    {
        if (count <= 0) return;
        Interlocked.Add(ref _packetCounts[(int)c], count);
        if (_packets.Enabled) _packets.Add(count, new KeyValuePair<string, object?>("class", ClassNames[(int)c]));
    }

    /// <summary><paramref name="count"/> drops of one reason at once.</summary>
    public void Drop(EdgeDropReason r, int count)
    {
        if (count <= 0) return;
        Interlocked.Add(ref _dropCounts[(int)r], count);
        if (_drops.Enabled) _drops.Add(count, new KeyValuePair<string, object?>("reason", DropNames[(int)r]));
    }

    public void Drop(EdgeDropReason r)
    {
        Interlocked.Increment(ref _dropCounts[(int)r]);
        if (_drops.Enabled) _drops.Add(1, new KeyValuePair<string, object?>("reason", DropNames[(int)r]));
    }

    /// <summary>Counts a grain call and, when it completes, its latency.</summary>
    public GrainCallTimer GrainCall(string method)
    {
        Interlocked.Increment(ref _grainCallCount);
        _grainCalls.Add(1, new KeyValuePair<string, object?>("method", method));
        return new GrainCallTimer(this, method, Stopwatch.GetTimestamp());
    }

    internal void Record(string method, long started) =>
        _grainCallLatency.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("method", method));

    public void Dispose() => _meter.Dispose();

    private static readonly string[] ClassNames = Array.ConvertAll(Enum.GetNames<EdgePacketClass>(), n => n.ToLowerInvariant());
    private static readonly string[] DropNames = Array.ConvertAll(Enum.GetNames<EdgeDropReason>(), n => n.ToLowerInvariant());
}

/// <summary>Disposing records the call's latency.</summary>
public readonly struct GrainCallTimer(EdgeMetrics metrics, string method, long started) : IDisposable
{
    public void Dispose() => metrics.Record(method, started);
}

/// <summary>Packet classes the edge counts (seed S21-S24, and the control traffic of the access link).</summary>
public enum EdgePacketClass
{
    AccessControl,
    ProxyRequest,
    IkeFromNetwork,
    IkeToNetwork,
    KeyTransferToHandset,
    RoutedToNetwork,
    RoutedToHandset,
}

/// <summary>Why the edge dropped a packet.</summary>
public enum EdgeDropReason
{
    Malformed,
    UnknownTunnel,
    Spoofed,
    KeyTransferFromHandset,
    ProxyRequestFromNetwork,
    KeyTransferFromNetwork,
    ProxyRefused,
    NoRoute,
    NatKeepalive,
    Unroutable,
    Overloaded,
    SendFailed,

    /// <summary>An IKE_SA_INIT without a valid cookie while too many SAs are half-open: answered with COOKIE (RFC 7296 2.6), no session.</summary>
    CookieDemanded,

    /// <summary>An IKE_SA_INIT above the edge's half-open cap (<see cref="EdgeOptions.MaxHalfOpen"/>).</summary>
    HalfOpenLimit,

    /// <summary>An IKE_SA_INIT above the per-peer half-open cap (<see cref="EdgeOptions.MaxHalfOpenPerPeer"/>).</summary>
    HalfOpenPeerLimit,

    /// <summary>A proxy request above the handset's rate (<see cref="EdgeOptions.ProxyRequestsPerSecond"/>); the handset gets ProxyRefusal Overloaded.</summary>
    ProxyRequestRateLimited,

    /// <summary>An IKE_SA_INIT that would get a COOKIE answer above the edge's rate of them (<see cref="EdgeOptions.CookieAnswersPerSecond"/>): dropped unanswered.</summary>
    CookieRateLimited,

    /// <summary>
    /// The TUN packet path: a packet for a pool address that is neither IKE on the handset's IKE or NAT-T port, ESP in UDP,
    /// nor plain ESP (another protocol, another port, an IPv6 extension header).
    /// </summary>
    OtherTraffic,

    /// <summary>The TUN packet path: an IP fragment for a pool address (the edge does not reassemble).</summary>
    Fragment,

    /// <summary>The TUN packet path: a packet for a pool address no handset is attached at.</summary>
    NotAttached,
}
