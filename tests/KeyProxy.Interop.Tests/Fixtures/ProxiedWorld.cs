using System.Net;
using KeyProxy.Abstractions;
using KeyProxy.Edge;
using KeyProxy.Handset;
using KeyProxy.Handset.Cli;
using KeyProxy.Interop.Tests.EndToEnd;

namespace KeyProxy.Interop.Tests.Fixtures;

/// <summary>
/// The end-to-end set-up of <c>ProxiedExchangeTests</c>, shareable: a network namespace with a
/// handset pool routed from it (to an edge on either packet path), a UDP echo on port 7 inside it, an <see cref="EdgeSilo"/> giving
/// out addresses from the pool with alice provisioned for the namespace's address, and a charon
/// in the namespace on 500/4500, started when the test is ready for it (e.g. once it knows the
/// handset's address, to initiate towards it).
/// </summary>
public sealed class ProxiedWorld : IAsyncDisposable
{
    public const string Alice = "alice@keyproxy.test";

    /// <summary>alice's IKE identity (what charon expects as <c>remote.id</c>).</summary>
    public const string AliceIkeId = "alice.keyproxy.test";

    private static readonly TimeSpan EchoTimeout = TimeSpan.FromSeconds(10);

    private readonly List<UdpHandsetHost> _handsets = [];
    private readonly CancellationTokenSource _stop = new();

    private ProxiedWorld(NetworkNamespace ns, string pool, EdgeSilo silo)
    {
        Ns = ns;
        Pool = pool;
        Silo = silo;
    }

    public NetworkNamespace Ns { get; }

    public string Pool { get; }

    public EdgeSilo Silo { get; }

    /// <summary>The charon of <see cref="StartCharonAsync"/>.</summary>
    public StrongSwanPeer? Charon { get; private set; }

    /// <summary>charon's address, where the echo listens (port 7).</summary>
    public IPAddress Peer => Ns.NamespaceAddress;

    /// <summary>
    /// Namespace, pool, echo and silo (with <paramref name="settings"/>, e.g.
    /// <c>KeyProxy:Network:ChildRekeyAfter</c>); alice may use the proxy with the namespace's
    /// address in <paramref name="roles"/>.
    /// </summary>
    public static async Task<ProxiedWorld> StartAsync(ProxyRoles roles = ProxyRoles.Initiator | ProxyRoles.Responder,
        IReadOnlyDictionary<string, string>? settings = null, CancellationToken ct = default, Func<SubscriberProfile, SubscriberProfile>? profile = null,
        Action<Microsoft.AspNetCore.Builder.WebApplicationBuilder>? configureSilo = null)
    {
        var ns = NetworkNamespace.Create();
        try
        {
            // An edge on the TUN packet path routes its pool to its own device; on the socket path it binds addresses of an AnyIP pool.
            var pool = settings is not null && settings.TryGetValue("KeyProxy:Edge:PacketPath", out var path) && path == "Tun"
                ? ns.AddTunPool()
                : ns.AddHandsetPool();
            var silo = await EdgeSilo.StartAsync("edge-a", pool, settings: settings, ct: ct, configure: configureSilo);
            var world = new ProxiedWorld(ns, pool, silo);
            try
            {
                var alice = Proxied.Subscriber(Alice, ns.NamespaceAddress + "/32", roles: roles);
                await silo.ProvisionAsync(profile is null ? alice : profile(alice));
                var echo = ns.BindUdp(new IPEndPoint(ns.NamespaceAddress, 7));
                Proxied.Echo(echo, world._stop.Token);
                return world;
            }
            catch
            {
                await world.DisposeAsync();
                throw;
            }
        }
        catch
        {
            ns.Dispose();
            throw;
        }
    }

    /// <summary>
    /// charon in the namespace on 500/4500 with the e2e PSK, expecting alice's identity and the
    /// pool as remote selector; <paramref name="configure"/> adjusts that (e.g. the address to
    /// initiate to).
    /// </summary>
    public async Task<StrongSwanPeer> StartCharonAsync(Func<StrongSwanPeerOptions, StrongSwanPeerOptions>? configure = null, CancellationToken ct = default)
    {
        if (Charon is not null) throw new InvalidOperationException("charon is running already");
        var options = new StrongSwanPeerOptions
        {
            Namespace = Ns,
            IkePort = 500,
            NatTPort = 4500,
            Psk = Proxied.Psk,
            RemoteId = AliceIkeId,
            RemoteTs = Pool,
        };
        Charon = await StrongSwanPeer.StartAsync(configure is null ? options : configure(options), ct);
        return Charon;
    }

    /// <summary>alice's handset, protecting traffic to charon's address, attached; disposed with the world.</summary>
    public async Task<(UdpHandsetHost Handset, HandsetEventLog Events, Attached Attached)> AttachAsync(CancellationToken ct = default,
        Func<HandsetConfig, HandsetConfig>? configure = null)
    {
        var handset = Proxied.Handset(Alice, Silo.AccessEndPoint, Peer + "/32", configure);
        _handsets.Add(handset);
        var events = new HandsetEventLog(handset);
        handset.Attach();
        var attached = await events.WaitAsync<Attached>(null, TimeSpan.FromSeconds(10), ct);
        return (handset, events, attached);
    }

    /// <summary>
    /// Flow 1 on an attached handset: a first packet to the echo is held, the proxy negotiates
    /// with charon, the SA arrives and the echo of the held packet comes back through it.
    /// </summary>
    public async Task<SaInstalled> EstablishFromHandsetAsync(UdpHandsetHost handset, HandsetEventLog events, CancellationToken ct = default)
    {
        const string text = "held until the SA is in";
        var status = handset.Send(Proxied.Udp(handset.Address!, 40000, Peer, 7, text)).Status;
        if (status != HandsetPacketStatus.Held) throw new InvalidOperationException($"the first packet was not held but {status}");
        var installed = await events.WaitAsync<SaInstalled>(null, TimeSpan.FromSeconds(20), ct);
        await ExpectEchoAsync(handset, text, ct);
        return installed;
    }

    /// <summary>Sends <paramref name="text"/> to the echo through the handset's SA and waits for the decrypted reply.</summary>
    public async Task EchoAsync(UdpHandsetHost handset, string text, CancellationToken ct = default)
    {
        var status = handset.Send(Proxied.Udp(handset.Address!, 40000, Peer, 7, text)).Status;
        if (status != HandsetPacketStatus.Ok)
            throw new InvalidOperationException($"\"{text}\" was not sent through an SA but {status}; counters: {handset.Counters}");
        await ExpectEchoAsync(handset, text, ct);
    }

    /// <summary>Waits for <paramref name="text"/> among the delivered packets (an earlier echo arriving late is skipped).</summary>
    private static async Task ExpectEchoAsync(UdpHandsetHost handset, string text, CancellationToken ct)
    {
        while (Proxied.Text(await Proxied.NextDeliveredAsync(handset, EchoTimeout, ct)) != text)
        {
        }
    }

    /// <summary>The edge's routes and counters and charon's log, for failure messages.</summary>
    public string Describe() =>
        $"edge routes: {Silo.Edge.Routes}, grain calls: {Silo.Edge.Metrics.GrainCalls}, drops: " +
        string.Join(", ", Enum.GetValues<EdgeDropReason>().Select(r => $"{r}={Silo.Edge.Metrics.Drops(r)}")) +
        "\n" + (Charon?.Describe(150) ?? "(no charon)");

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        foreach (var h in _handsets) await h.DisposeAsync();
        await Silo.DisposeAsync();
        if (Charon is not null) await Charon.DisposeAsync();
        Ns.Dispose();
        _stop.Dispose();
    }
}
