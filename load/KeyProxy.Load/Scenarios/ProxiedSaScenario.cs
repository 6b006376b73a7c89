using System.Net;
using System.Text;
using KeyProxy.Handset;
using KeyProxy.Load.Framework;
using KeyProxy.Load.Peers;
using KeyProxy.Primitives;
using KeyProxy.Wire.Ip;

namespace KeyProxy.Load.Scenarios;

/// <summary>
/// What the <c>proxied-sa</c> scenario needs: the edge, the admin API, the fleet's shape, and the peers
/// (responders of our own engine on <see cref="PeerNetwork"/>.1 .. .<see cref="Peers"/>, on the ports the
/// silo was told as <c>KeyProxy:Network:PeerIkePort</c> / <c>PeerNatTPort</c>).
/// </summary>
public sealed record ProxiedSaOptions(IPEndPoint Edge, Uri Api, int Handsets, int Sockets, string NaiPrefix, int Peers, int PeerIkePort, int PeerNatTPort)
{
    /// <summary>A /24 in 127.0.0.0/8 for the peers; the handsets protect it.</summary>
    public IPAddress PeerNetwork { get; init; } = IPAddress.Parse("127.0.120.0");

    public TimeSpan AttachTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>From the proxy request to the SA installed; beyond it the step fails with "timeout".</summary>
    public TimeSpan SaTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Attaches in flight while the scenario's init attaches the fleet.</summary>
    public int AttachParallelism { get; init; } = 32;

    public bool DetachAtEnd { get; init; } = true;

    /// <summary>x25519, ecp256, modp2048 or x25519-mlkem768: the subscribers' IKE proposal and the peers' (null: the profile default, peers accept all three).</summary>
    public string? DhGroup { get; init; }

    /// <summary>Who the peers are: our engine in this process (default), one charon, or already running elsewhere.</summary>
    public Baselines.PeerKind Peer { get; init; } = Baselines.PeerKind.Engine;

    /// <summary>The handsets' pool: the remote selector a charon peer accepts.</summary>
    public string HandsetPool { get; init; } = "127.0.0.0/8";
}

/// <summary>
/// <c>proxied-sa</c> (DESIGN, flow 1: handset-initiated): init provisions N subscribers through the admin
/// API, starts the responder peers and attaches the fleet; invocation i makes handset i send one UDP packet
/// to peer (i mod peers), which its SPD protects: the packet is held, a key exchange proxy request goes out,
/// the proxy runs IKE with the peer and transfers the keys. The step <c>proxied-sa</c> measures the proxy
/// request to the handset's SaInstalled (the held packet then leaves as ESP and the peer counts it).
/// </summary>
public sealed class ProxiedSaScenario : IAsyncDisposable
{
    private readonly ProxiedSaOptions _options;
    private HandsetFleet? _fleet;
    private ResponderPeers? _peers;
    private Baselines.CharonResponderPeer? _charon;

    public ProxiedSaScenario(ProxiedSaOptions options) => _options = options;

    public HandsetFleet? Fleet => _fleet;

    public ResponderPeers? Peers => _peers;

    /// <summary>The charon peer with <c>--peer strongswan</c>.</summary>
    public Baselines.CharonResponderPeer? Charon => _charon;

    /// <summary>Handsets the init could not attach (they fail their step).</summary>
    public int AttachFailures { get; private set; }

    /// <summary>SAs installed in the handsets when the load ended.</summary>
    public int InstalledAtEnd { get; private set; }

    public Scenario Build() => new("proxied-sa", [new Step("proxied-sa", ProxyOne) { Unit = "SAs" }])
    {
        Init = InitAsync,
        Clean = CleanAsync,
        MaxInvocations = _options.Handsets,
    };

    private string PeerPrefix => _options.PeerNetwork + "/24";

    private IPAddress Peer(int index) => ProxiedFleet.Peer(_options.PeerNetwork, _options.Peers, index);

    private async Task InitAsync(ScenarioInitContext context)
    {
        var ct = context.CancellationToken;
        var proposal = _options.DhGroup is { } group ? Baselines.DhGroupChoice.IkeProposal(group) : null;
        if (_options.Peer == Baselines.PeerKind.Engine)
            _peers = new ResponderPeers(_options.Peers, _options.PeerNetwork, _options.PeerIkePort, _options.PeerNatTPort, proposal is null ? null : [proposal]);
        else if (_options.Peer == Baselines.PeerKind.StrongSwan)
            _charon = await Baselines.CharonResponderPeer.StartAsync(
                Path.Combine(Path.GetTempPath(), $"kpbase-charon-peer-{Environment.ProcessId}-{Guid.NewGuid():N}"), _options.PeerIkePort, _options.PeerNatTPort,
                proposal ?? Baselines.DhGroupChoice.IkeProposal(Baselines.DhGroupChoice.Default), PeerPrefix, _options.HandsetPool, ct);
        (_fleet, AttachFailures) = await ProxiedFleet.AttachAsync(_options.Api, _options.Edge, _options.Handsets, _options.Sockets, _options.NaiPrefix,
            PeerPrefix, _options.AttachTimeout, _options.AttachParallelism, ct, proposal);
    }

    private async Task<StepResult> ProxyOne(StepContext context)
    {
        int index = (int)context.InvocationNumber;
        var handset = _fleet!.Handsets[index];
        long before = handset.Bytes;
        var source = handset.Address;
        if (source is null) return StepResult.Fail("not attached", 0);
        var packet = Udp(source, (ushort)(20000 + index % 40000), Peer(index), 7, $"proxied-sa {index}");
        object outcome;
        try { outcome = await handset.SendProtectedAsync(packet, _options.SaTimeout, context.CancellationToken); }
        catch (TimeoutException) { return StepResult.Fail("timeout", handset.Bytes - before); }
        return ProxiedFleet.SaOutcome(outcome, handset.Bytes - before);
    }

    /// <summary>An IPv4 UDP packet (the application's packet the handset protects).</summary>
    internal static byte[] Udp(IPAddress source, ushort sourcePort, IPAddress destination, ushort destinationPort, string text)
    {
        var payload = Encoding.ASCII.GetBytes(text);
        var packet = new byte[UdpPacketWriter.HeaderSize(IpFamily.V6) + payload.Length];
        if (UdpPacketWriter.TryWrite(packet, IpAddressValue.FromIPAddress(source), sourcePort, IpAddressValue.FromIPAddress(destination),
                destinationPort, payload, out int n) != PacketError.None)
            throw new InvalidOperationException("cannot build the packet");
        return packet[..n];
    }

    private async Task CleanAsync(CancellationToken ct)
    {
        InstalledAtEnd = _fleet?.InstalledSas ?? 0;
        // The held packets leave as ESP right after SaInstalled: give them a moment to reach the peers.
        await Task.Delay(200, CancellationToken.None);
        if (_options.DetachAtEnd && _fleet is not null) await _fleet.DetachAllAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_fleet is not null) await _fleet.DisposeAsync();
        if (_peers is not null) await _peers.DisposeAsync();
        if (_charon is not null) await _charon.DisposeAsync();
    }
}
