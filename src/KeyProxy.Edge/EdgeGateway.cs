using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Diagnostics;
using KeyProxy.Abstractions;
using KeyProxy.Edge.Admission;
using KeyProxy.Edge.Routing;
using KeyProxy.Edge.Tracing;
using KeyProxy.Ike.Protocol;
using KeyProxy.Primitives;
using KeyProxy.Wire.Ip;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace KeyProxy.Edge;

/// <summary>
/// The edge gateway of one silo (the seed's service control device 1): the access socket for
/// handsets, two network-side sockets per attached handset, S21-S24 classification of every packet
/// from the local profile copy, and the IKE routing table. Only IKE, attach and proxy requests
/// become grain calls; ESP and everything else is routed here.
/// </summary>
public sealed partial class EdgeGateway : IHostedLifecycleService, IDisposable
{
    private readonly EdgeOptions _options;
    private readonly ProxyNetworkOptions _network;
    private readonly IGrainFactory _grains;
    private readonly ILocalSiloDetails _silo;
    private readonly ILogger<EdgeGateway> _logger;
    private readonly ConcurrentDictionary<uint, HandsetLink> _tunnels = new();
    private readonly ConcurrentDictionary<IPAddress, HandsetLink> _byAddress = new();
    /// <summary>The same links by address value: the TUN path's table, looked up per packet without allocating.</summary>
    private readonly ConcurrentDictionary<IpAddressValue, HandsetLink> _byPoolAddress = new();
    private readonly ConcurrentDictionary<string, HandsetLink> _byNai = new();
    private readonly ConcurrentDictionary<PendingAttachKey, PendingAttach> _pendingAttaches = new();
    private readonly IkeRouteTable _routes = new();
    private readonly PeerEndpoints _peers = new();
    private readonly HalfOpenTable _halfOpen;
    private readonly ExchangeTraces _traces;
    /// <summary>Sessions whose IKE SA is established and routed here (the session directory lists them; issue 17).</summary>
    private readonly ConcurrentDictionary<Guid, byte> _established = new();
    private readonly CookieGenerator _cookies = new(SecureRandomSource.Instance);
    private readonly TokenBucket _cookieAnswers;
    private long _cookieRotatedAt = Stopwatch.GetTimestamp();
    private readonly HandsetAddressPool _pool;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];
    private Socket? _access;
    /// <summary>The batched access loop's thread and the wait that stops it (Linux, <see cref="EdgeOptions.IoBatch"/> above 1).</summary>
    private Thread? _accessThread;
    private Batching.StoppableWait? _accessWait;

    public EdgeGateway(IOptions<EdgeOptions> options, IOptions<ProxyNetworkOptions> network, IGrainFactory grains, ILocalSiloDetails silo,
        ILogger<EdgeGateway> logger, EdgeMetrics? metrics = null)
    {
        _options = options.Value;
        _network = network.Value;
        if (string.IsNullOrWhiteSpace(_options.EdgeId)) throw new ArgumentException("KeyProxy:Edge:EdgeId is not set");
        _grains = grains;
        _silo = silo;
        _logger = logger;
        _pool = new HandsetAddressPool(_options.AddressPool);
        // A session's exchange lasts until it is established or given up: at most EstablishTimeout, or HalfOpenTimeout.
        _traces = new ExchangeTraces(_network.EstablishTimeout > _network.HalfOpenTimeout ? _network.EstablishTimeout : _network.HalfOpenTimeout);
        _halfOpen = new HalfOpenTable(_options.CookieThreshold, _options.MaxHalfOpen, _options.MaxHalfOpenPerPeer, _network.HalfOpenTimeout);
        _cookieAnswers = _options.NewCookieAnswerBucket(Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency);
        Metrics = metrics ?? new EdgeMetrics(_options.EdgeId);
        Metrics.ObserveState(() => AttachedCount, () => HalfOpen, _options.MaxHalfOpen);
    }

    public string EdgeId => _options.EdgeId;

    public EdgeMetrics Metrics { get; }

    /// <summary>Where handsets send their datagrams (the bound access endpoint).</summary>
    public IPEndPoint AccessEndPoint => (IPEndPoint)(_access?.LocalEndPoint ?? throw new InvalidOperationException("the edge is not started"));

    public int Routes => _routes.Count;

    /// <summary>Handsets attached here now.</summary>
    public int AttachedCount => _tunnels.Count;

    /// <summary>Responder sessions started here whose IKE SA is not established yet (RFC 7296 2.6 half-open).</summary>
    public int HalfOpen => _halfOpen.Count;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var endpoint = _options.ParsedAccessEndpoint;
        _access = new Socket(endpoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        // Bursts of handsets (attach storms, load) must queue in the kernel rather than be dropped uncounted.
        _access.ReceiveBufferSize = 4 * 1024 * 1024;
        _access.Bind(endpoint);
        if (_options.PacketPath == EdgePacketPath.Tun) StartTun();
        if (OperatingSystem.IsLinux() && _options.IoBatch > 1)
        {
            _accessWait = new Batching.StoppableWait();
            _accessThread = new Thread(AccessReceiver) { IsBackground = true, Name = "edge-access" };
            _accessThread.Start();
        }
        else _loops.Add(Task.Run(AccessLoopAsync));
        LogStarted(EdgeId, AccessEndPoint, _options.AddressPool, _tun?.ToString() ?? "sockets per handset");
        return Task.CompletedTask;
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Runs before any hosted service stops (Orleans stops its silo in this phase too, after us: we are
    /// registered later), so the subscriber grains still answer when told their handsets are gone.
    /// </summary>
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        _stop.Cancel();
        StopAccessReceiver();
        _access?.Dispose();
        StopTunReaders();
        // All subscribers are told at once, within one bound: a stop must not take seconds per handset.
        var told = new List<Task>();
        foreach (var link in _tunnels.Values)
        {
            Remove(link);
            told.Add(_grains.GetGrain<ISubscriberSessionGrain>(link.Nai).Detached(EdgeId, link.TunnelId));
        }
        try { await Task.WhenAll(told).WaitAsync(TimeSpan.FromSeconds(5), cancellationToken); }
        catch (Exception e) when (e is not OperationCanceledException) { /* stopping: a subscriber not told learns at the next attach */ }
        try { await Task.WhenAll(_loops).WaitAsync(TimeSpan.FromSeconds(5), cancellationToken); }
        catch (Exception) { /* loops end on cancellation */ }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        foreach (var link in _tunnels.Values) link.Dispose();
        StopAccessReceiver();
        _access?.Dispose();
        StopTunReaders();
        _tun?.Dispose();
        if (_accessThread is null || !_accessThread.IsAlive) _accessWait?.Dispose();
        _stop.Dispose();
        Metrics.Dispose();
    }

    private void StopAccessReceiver()
    {
        if (_accessWait is null) return;
        _accessWait.Wake();
        if (_accessThread is not null && _accessThread != Thread.CurrentThread) _accessThread.Join(TimeSpan.FromSeconds(5));
    }

    /// <summary>Attachments here (for the admin API and tests).</summary>
    public IReadOnlyList<HandsetBinding> Attachments()
    {
        var list = new List<HandsetBinding>();
        foreach (var link in _tunnels.Values) list.Add(Binding(link));
        return list;
    }

    /// <summary>The handset as the proxy sessions see it; plain ESP only where this edge can carry it (the TUN packet path).</summary>
    private HandsetBinding Binding(HandsetLink link) => new(link.Nai, EdgeId, link.Address.ToString(), link.TunnelId)
    {
        EspSuites = link.EspSuites,
        EdgeCarriesPlainEsp = _options.PacketPath == EdgePacketPath.Tun,
    };

    private void Remove(HandsetLink link)
    {
        // Detach, revoke and re-attach may race: the one that takes the tunnel out does the rest, once.
        if (!_tunnels.TryRemove(new KeyValuePair<uint, HandsetLink>(link.TunnelId, link))) return;
        _byAddress.TryRemove(new KeyValuePair<IPAddress, HandsetLink>(link.Address, link));
        _byPoolAddress.TryRemove(new KeyValuePair<IpAddressValue, HandsetLink>(link.AddressValue, link));
        _byNai.TryRemove(new KeyValuePair<string, HandsetLink>(link.Nai, link));
        foreach (var session in _routes.RemoveHandset(link.AddressValue))
        {
            _halfOpen.Forget(session);
            _traces.Forget(session);
            _established.TryRemove(session, out _);
        }
        link.Dispose();
        _pool.Release(link.Address);
    }

    private static uint NewTunnelId()
    {
        Span<byte> b = stackalloc byte[4];
        uint id;
        do
        {
            RandomNumberGenerator.Fill(b);
            id = BitConverter.ToUInt32(b);
        }
        while (id == 0);
        return id;
    }

    private void Observe(Task task, string what) =>
        task.ContinueWith(t => LogGrainCallFailed(what, t.Exception?.GetBaseException().Message), TaskContinuationOptions.OnlyOnFaulted);

    [LoggerMessage(Level = LogLevel.Information, Message = "Edge {EdgeId} listening for handsets on {Endpoint}, handset addresses from {Pool}, network side: {PacketPath}")]
    private partial void LogStarted(string edgeId, IPEndPoint endpoint, string pool, string packetPath);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Edge grain call {What} failed: {Error}")]
    private partial void LogGrainCallFailed(string what, string? error);
}

internal readonly record struct PendingAttachKey(SocketAddress From, UInt128 HandsetNonce);

internal sealed record PendingAttach(string Nai, UInt128 EdgeNonce, DateTimeOffset Expires);
