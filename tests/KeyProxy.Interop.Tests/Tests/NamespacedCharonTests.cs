using System.Net;
using System.Net.Sockets;
using KeyProxy.Ike.Auth;
using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Demo;
using KeyProxy.Ike.Messages;
using KeyProxy.Ike.Protocol;
using KeyProxy.Interop.Tests.Fixtures;
using KeyProxy.Primitives;

namespace KeyProxy.Interop.Tests.Tests;

/// <summary>
/// The network namespace fixture that ESP data-plane tests stand on: a socket opened inside the
/// namespace answers over the veth pair, and a charon inside it installs its CHILD_SA route into
/// the namespace's own table 220 through its own TUN device, leaving this host's routes alone.
/// </summary>
public sealed class NamespacedCharonTests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Socket_bound_inside_the_namespace_answers_over_the_veth_pair()
    {
        using var ns = NetworkNamespace.Create();
        using var inside = ns.BindUdp(new IPEndPoint(ns.NamespaceAddress, 7));
        using var outside = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        outside.Bind(new IPEndPoint(ns.HostAddress, 0));

        var echo = Task.Run(async () =>
        {
            var buffer = new byte[1500];
            var r = await inside.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), Ct);
            await inside.SendToAsync(buffer.AsMemory(0, r.ReceivedBytes), SocketFlags.None, r.RemoteEndPoint, Ct);
            return (IPEndPoint)r.RemoteEndPoint;
        }, Ct);
        await outside.SendToAsync("ping"u8.ToArray(), SocketFlags.None, new IPEndPoint(ns.NamespaceAddress, 7), Ct);
        var reply = new byte[16];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        var got = await outside.ReceiveFromAsync(reply, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), timeout.Token);

        Assert.Equal("ping", System.Text.Encoding.ASCII.GetString(reply, 0, got.ReceivedBytes));
        Assert.Equal(ns.HostAddress, (await echo).Address);
        // The namespace's address is not this host's: the socket really lives in the namespace.
        Assert.Throws<SocketException>(() =>
        {
            using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            s.Bind(new IPEndPoint(ns.NamespaceAddress, 7));
        });
    }

    [Fact]
    public async Task Charon_in_a_namespace_routes_our_selector_through_its_own_tun()
    {
        using var ns = NetworkNamespace.Create();
        using var ports = PortAllocator.AllocateBlock(2);
        var virtualAddress = IPAddress.Parse("10.77.0.2");
        await using var charon = await StrongSwanPeer.StartAsync(new()
        {
            Namespace = ns,
            RemoteId = "engine.keyproxy.test",
            RemoteTs = "10.77.0.0/24",
            IkeProposals = "aes128gcm16-prfsha256-x25519",
            EspProposals = "aes128gcm16",
        }, Ct);
        var config = EspInteropConfig.Initiator(ns, charon, ports, virtualAddress);
        await using var host = UdpIkeHost.StartInitiator(config);
        try
        {
            var established = await host.WaitForAsync<ChildSaEstablished>(timeout: TimeSpan.FromSeconds(20));
            var (_, child) = await charon.WaitForChildSaAsync(c => c.SpiIn == established.ChildSa.OutboundSpi, ct: Ct);
            Assert.True(child.IsInstalled);
            Assert.True(established.ChildSa.UdpEncapsulation);

            var routes = ns.Run("route", "show", "table", "220");
            output.WriteLine($"table 220 in {ns.Name}:\n{routes}");
            Assert.Contains("10.77.0.2", routes, StringComparison.Ordinal);
            Assert.Contains("ipsec", routes, StringComparison.Ordinal);
        }
        catch (Exception) { output.WriteLine(charon.Describe()); throw; }
    }
}

/// <summary>Our initiator's config against a charon in a namespace, with a virtual inner address as our selector.</summary>
internal static class EspInteropConfig
{
    public static IkeSessionConfig Initiator(NetworkNamespace ns, StrongSwanPeer charon, PortLease ports, IPAddress ourInnerAddress,
        EspSuite? esp = null, IkeSuite? ike = null) => new()
    {
        LocalIdentity = IkeIdentity.Fqdn("engine.keyproxy.test"),
        LocalCredential = new PreSharedKeyCredential(charon.PskBytes),
        PeerAuthentication = PeerAuthentication.WithPreSharedKey(charon.PskBytes),
        RemoteIdentity = IkeIdentity.Fqdn(charon.LocalId),
        IkeProposals = [ike ?? new IkeSuite(EncryptionAlgorithm.AesGcm16, 128, IntegrityAlgorithm.None, PrfAlgorithm.HmacSha2_256, DhGroup.Curve25519)],
        Child = new ChildSaConfig
        {
            Proposals = [esp ?? new EspSuite(EncryptionAlgorithm.AesGcm16, 128, IntegrityAlgorithm.None, EsnMode.NoEsn)],
            LocalSelectors = [TrafficSelectorNarrowing.ForHost(ourInnerAddress)],
            RemoteSelectors = [TrafficSelectorNarrowing.ForHost(ns.NamespaceAddress)],
        },
        LocalEndpoint = new IPEndPoint(ns.HostAddress, ports[0]),
        RemoteEndpoint = charon.IkeEndPoint,
        LocalNatTraversalPort = ports[1],
        RemoteNatTraversalPort = charon.NatTPort,
    };
}
