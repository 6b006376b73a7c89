using System.Net;
using System.Net.Sockets;
using KeyProxy.Edge;
using KeyProxy.Handset;
using KeyProxy.Interop.Tests.Fixtures;
using KeyProxy.Wire;
using KeyProxy.Wire.Access;
using KeyProxy.Wire.Ip;
using KeyProxy.Wire.Proxy;

namespace KeyProxy.Interop.Tests.EndToEnd;

/// <summary>
/// The edge as the trust boundary (DESIGN, Security), on real sockets: a handset without the
/// proxy service, or asking for a peer outside its conditions, gets a refusal it can show and the
/// edge counts it; proxy requests and key transfers from the network side, packets with a forged
/// source and unknown tunnels are dropped and counted.
/// </summary>
public sealed class RefusalTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Handset_without_the_proxy_service_is_refused_by_the_edge()
    {
        await using var silo = await EdgeSilo.StartAsync("edge-refusals-1", "127.0.61.0/24", ct: Ct);
        await silo.ProvisionAsync(Proxied.Subscriber("carol@keyproxy.test", "127.0.99.0/24", proxyService: false));
        await using var handset = Proxied.Handset("carol@keyproxy.test", silo.AccessEndPoint, "127.0.99.0/24");
        handset.Attach();
        var attached = await handset.WaitForAsync<Attached>(TimeSpan.FromSeconds(10), Ct);

        Assert.Equal(HandsetPacketStatus.Held, handset.Send(Proxied.Udp(attached.Address, 40000, IPAddress.Parse("127.0.99.5"), 7, "no service")).Status);
        var refused = await handset.WaitForAsync<ProxyRefused>(TimeSpan.FromSeconds(10), Ct);

        Assert.True(refused.ByEdge);
        Assert.Equal(KeyProxyReason.ProxyServiceNotSubscribed, refused.Reason);
        Assert.Contains("proxy service", refused.Text);
        Assert.Equal(1, refused.DroppedPackets);
        Assert.Equal(1, silo.Edge.Metrics.Drops(EdgeDropReason.ProxyRefused));
        Assert.Equal(0, silo.Edge.Routes);
    }

    [Fact]
    public async Task Peer_outside_the_conditions_is_refused_and_an_allowed_peer_is_not()
    {
        await using var silo = await EdgeSilo.StartAsync("edge-refusals-2", "127.0.62.0/24", ct: Ct);
        await silo.ProvisionAsync(Proxied.Subscriber("dave@keyproxy.test", "127.0.98.0/24"));
        await using var handset = Proxied.Handset("dave@keyproxy.test", silo.AccessEndPoint, "127.0.0.0/8");
        handset.Attach();
        var attached = await handset.WaitForAsync<Attached>(TimeSpan.FromSeconds(10), Ct);

        handset.Send(Proxied.Udp(attached.Address, 40000, IPAddress.Parse("127.0.99.5"), 7, "outside"));
        var refused = await handset.WaitForAsync<ProxyRefused>(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal(KeyProxyReason.PeerNotAllowed, refused.Reason);
        Assert.Contains("127.0.99.5", refused.Text);
        Assert.Equal(1, silo.Edge.Metrics.Drops(EdgeDropReason.ProxyRefused));

        // Inside the conditions the request goes to a proxy session: a grain call, a route, no refusal.
        long calls = silo.Edge.Metrics.GrainCalls;
        handset.Send(Proxied.Udp(attached.Address, 40000, IPAddress.Parse("127.0.98.5"), 7, "inside"));
        await WaitUntilAsync(() => silo.Edge.Routes == 1, "a route for the new session");
        Assert.True(silo.Edge.Metrics.GrainCalls > calls);
        Assert.Equal(1, silo.Edge.Metrics.Drops(EdgeDropReason.ProxyRefused));
    }

    [Fact]
    public async Task Proxy_requests_and_key_transfers_from_the_network_side_are_dropped_and_counted()
    {
        await using var silo = await EdgeSilo.StartAsync("edge-refusals-3", "127.0.63.0/24", ct: Ct);
        await silo.ProvisionAsync(Proxied.Subscriber("erin@keyproxy.test", "127.0.97.0/24"));
        await using var handset = Proxied.Handset("erin@keyproxy.test", silo.AccessEndPoint, "127.0.97.0/24");
        handset.Attach();
        var attached = await handset.WaitForAsync<Attached>(TimeSpan.FromSeconds(10), Ct);
        var handsetIke = new IPEndPoint(attached.Address, 500);

        using var outsider = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        outsider.Bind(new IPEndPoint(IPAddress.Parse("127.0.97.9"), 0));
        var request = new ProxyRequest(7, ProxyRequestFlags.None, new Nonce16(42), [], [], []).ToArray();
        using var sealer = new KeyTransferSealer(new byte[32]);
        var transfer = sealer.Seal(1, new SaDelete(SaDeleteReason.PeerDeleted, [0x1000]));
        outsider.SendTo(request, handsetIke);
        outsider.SendTo(transfer, handsetIke);
        outsider.SendTo("not IKE at all"u8.ToArray(), handsetIke);

        await WaitUntilAsync(() => silo.Edge.Metrics.Drops(EdgeDropReason.KeyTransferFromNetwork) == 1
            && silo.Edge.Metrics.Drops(EdgeDropReason.ProxyRequestFromNetwork) == 1
            && silo.Edge.Metrics.Drops(EdgeDropReason.Malformed) == 1,
            () => $"the three drops (key transfer {silo.Edge.Metrics.Drops(EdgeDropReason.KeyTransferFromNetwork)}, proxy request " +
                $"{silo.Edge.Metrics.Drops(EdgeDropReason.ProxyRequestFromNetwork)}, malformed {silo.Edge.Metrics.Drops(EdgeDropReason.Malformed)})");
        Assert.Equal(0, silo.Edge.Routes);
        Assert.Equal(0, handset.Counters.SasInstalled + handset.Counters.SaDeletes + handset.Counters.ProxyFailures + handset.Counters.KeyTransfersRejected);
    }

    [Fact]
    public async Task Forged_sources_and_unknown_tunnels_on_the_access_side_are_dropped_and_counted()
    {
        await using var silo = await EdgeSilo.StartAsync("edge-refusals-4", "127.0.64.0/24", ct: Ct);
        await silo.ProvisionAsync(Proxied.Subscriber("frank@keyproxy.test", "127.0.96.0/24"));
        await using var handset = Proxied.Handset("frank@keyproxy.test", silo.AccessEndPoint, "127.0.96.0/24");
        handset.Attach();
        var attached = await handset.WaitForAsync<Attached>(TimeSpan.FromSeconds(10), Ct);
        var tunnel = silo.Edge.Attachments().Single().TunnelId;

        // From another socket: the tunnel is bound to the handset's endpoint.
        using var intruder = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        intruder.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var packet = Proxied.Udp(attached.Address, 500, IPAddress.Parse("127.0.96.1"), 500, "hello");
        intruder.SendTo(Data(tunnel, packet), silo.AccessEndPoint);
        intruder.SendTo(Data(tunnel ^ 0x5a5a5a5a, packet), silo.AccessEndPoint);
        await WaitUntilAsync(() => silo.Edge.Metrics.Drops(EdgeDropReason.UnknownTunnel) == 2, "two unknown-tunnel drops");

        // A handset of our own making that attaches by the book and then forges its inner source.
        using var raw = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        raw.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        raw.ReceiveTimeout = 5000;
        await silo.ProvisionAsync(Proxied.Subscriber("grace@keyproxy.test", "127.0.96.0/24"));
        var (rawTunnel, rawAddress) = RawAttach(raw, silo.AccessEndPoint, "grace@keyproxy.test");
        var spoofed = Proxied.Udp(attached.Address, 4500, IPAddress.Parse("127.0.96.1"), 4500, "pretending to be frank");
        raw.SendTo(Data(rawTunnel, spoofed), silo.AccessEndPoint);
        await WaitUntilAsync(() => silo.Edge.Metrics.Drops(EdgeDropReason.Spoofed) == 1, "the spoofed drop");
        Assert.NotEqual(attached.Address, rawAddress);
        Assert.Equal(0, silo.Edge.Metrics.Packets(EdgePacketClass.RoutedToNetwork));
    }

    /// <summary>Attach by hand (docs/wire.md): request, challenge, proof, accept; returns the tunnel and address.</summary>
    private static (uint Tunnel, IPAddress Address) RawAttach(Socket socket, IPEndPoint edge, string nai)
    {
        var identity = new SubscriberIdentity(IdentityType.Nai, nai);
        var handsetNonce = new Nonce16(0x1234567890abcdefUL);
        socket.SendTo(new AttachRequest(identity, handsetNonce).ToArray(), edge);
        var challenge = (AttachChallenge)Receive(socket);
        var proof = AttachProofs.ComputeAttachProof(SubscriberKeys.DeriveAttachKey(Proxied.Secret(nai)), identity, handsetNonce, challenge.EdgeNonce);
        socket.SendTo(new AttachResponse(identity, handsetNonce, challenge.EdgeNonce, proof).ToArray(), edge);
        var accept = (AttachAccept)Receive(socket);
        return (accept.TunnelId, accept.HandsetAddress);
    }

    private static AccessMessage Receive(Socket socket)
    {
        var buffer = new byte[2048];
        int n = socket.Receive(buffer);
        Assert.Equal(WireError.None, AccessMessage.TryParse(buffer.AsSpan(0, n), out var message));
        return message!;
    }

    private static byte[] Data(uint tunnel, byte[] packet)
    {
        var datagram = new byte[AccessData.HeaderSize + packet.Length];
        Assert.Equal(WireError.None, AccessData.TryWrite(datagram, tunnel, packet, out _));
        return datagram;
    }

    private static Task WaitUntilAsync(Func<bool> condition, string what) => WaitUntilAsync(condition, () => what);

    private static async Task WaitUntilAsync(Func<bool> condition, Func<string> what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("timed out waiting for " + what());
            await Task.Delay(20, Ct);
        }
    }
}
