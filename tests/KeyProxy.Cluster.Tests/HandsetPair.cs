using System.Net;
using System.Net.Sockets;
using System.Text;
using KeyProxy.Handset;
using KeyProxy.Handset.Cli;
using KeyProxy.Ipsec.Policy;
using KeyProxy.Wire.Access;
using KeyProxy.Wire.Ip;

namespace KeyProxy.Cluster.Tests;

/// <summary>
/// Flow 3 across two edges: alice on edge-a with the proxy service for edge-b's pool, bob on edge-b for edge-a's
/// pool. Alice sends to bob's address; the network runs an initiator session for alice and a responder session for
/// bob, and both handsets get their SA; alice's datagram reaches bob as ESP and is decrypted there.
/// </summary>
internal sealed class HandsetPair : IAsyncDisposable
{
    private HandsetPair(string aliceNai, string bobNai, RecordedHandset alice, RecordedHandset bob)
    {
        (AliceNai, BobNai, Alice, Bob) = (aliceNai, bobNai, alice, bob);
    }

    public string AliceNai { get; }

    public string BobNai { get; }

    public RecordedHandset Alice { get; }

    public RecordedHandset Bob { get; }

    public static string AliceName(string tag, int i) => $"alice-{tag}-{i}@cluster.keyproxy.test";

    public static string BobName(string tag, int i) => $"bob-{tag}-{i}@cluster.keyproxy.test";

    /// <summary>Provisions nothing: creates both handsets (not yet attached).</summary>
    public static HandsetPair Create(string tag, int i, LocalCluster cluster, string poolA, string poolB, RequestRetryPolicy? retry = null)
    {
        var aliceNai = AliceName(tag, i);
        var bobNai = BobName(tag, i);
        var alice = new RecordedHandset(new UdpHandsetHost(Config(aliceNai, poolB, retry), cluster.EdgeA.AccessEndPoint!));
        var bob = new RecordedHandset(new UdpHandsetHost(Config(bobNai, poolA, retry), cluster.EdgeB.AccessEndPoint!));
        return new HandsetPair(aliceNai, bobNai, alice, bob);
    }

    public async Task AttachAsync(TimeSpan timeout)
    {
        Alice.Host.Attach();
        Bob.Host.Attach();
        await Task.WhenAll(Alice.WaitAsync<Attached>(_ => true, timeout, "attached at edge-a"), Bob.WaitAsync<Attached>(_ => true, timeout, "attached at edge-b"));
    }

    /// <summary>Alice's first datagram to bob: held by her handset while the network negotiates.</summary>
    public void SendFirst(string text)
    {
        var result = Alice.Host.Send(Udp(Alice.Host.Address!, 40000, Bob.Host.Address!, 7, text));
        Assert.Equal(HandsetPacketStatus.Held, result.Status);
    }

    /// <summary>Both SAs installed (alice's towards bob, bob's towards alice) and the held datagram delivered to bob, decrypted.</summary>
    public async Task CompleteAsync(string text, TimeSpan timeout)
    {
        var aliceSa = Alice.WaitAsync<SaInstalled>(e => e.Peer.Equals(Bob.Host.Address), timeout, "SA towards bob");
        var bobSa = Bob.WaitAsync<SaInstalled>(e => e.Peer.Equals(Alice.Host.Address), timeout, "SA towards alice");
        await Task.WhenAll(aliceSa, bobSa);
        var delivered = await Bob.NextDeliveredAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(text, Text(delivered));

        // And back: bob's SA protects his answer, alice decrypts it.
        var answer = "answer to " + text;
        var sent = Bob.Host.Send(Udp(Bob.Host.Address!, 7, Alice.Host.Address!, 40000, answer));
        Assert.Equal(HandsetPacketStatus.Ok, sent.Status);
        Assert.Equal(answer, Text(await Alice.NextDeliveredAsync(TimeSpan.FromSeconds(10))));
    }

    /// <summary>
    /// No SA on one side only: alice's inbound SPIs are bob's outbound ones and the other way round, from the SA events
    /// both handsets reported. Waits up to <paramref name="timeout"/> for that (a replaced or deleted SA is removed on
    /// each side by its own message); returns how long it took, or throws with both sides' SAs.
    /// </summary>
    public async Task<TimeSpan> WaitSasMatchAsync(TimeSpan timeout)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var alice = Alice.LiveSas();
            var bob = Bob.LiveSas();
            bool match = alice.Select(e => e.InboundSpi).Order().SequenceEqual(bob.Select(e => e.OutboundSpi).Order())
                && alice.Select(e => e.OutboundSpi).Order().SequenceEqual(bob.Select(e => e.InboundSpi).Order());
            if (match)
            {
                return clock.Elapsed;
            }

            if (clock.Elapsed > timeout)
            {
                static string Show(IEnumerable<SaInstalled> sas) => string.Join(", ", sas.Select(e => $"in {e.InboundSpi:x8} out {e.OutboundSpi:x8} peer {e.Peer}"));
                throw new TimeoutException($"{AliceNai} and {BobNai}: SAs on one side only after {timeout}: alice has [{Show(alice)}], bob has [{Show(bob)}]");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Detaches both handsets (best effort, so that the edges have nothing left to clean up at stop), then closes them.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var h in new[] { Alice, Bob })
        {
            if (h.Host.State == HandsetState.Attached)
            {
                h.Host.Detach();
            }
        }

        foreach (var h in new[] { Alice, Bob })
        {
            try
            {
                await h.WaitAsync<Detached>(_ => true, TimeSpan.FromSeconds(5), "detached");
            }
            catch (TimeoutException)
            {
                // Not what these tests check; the edge drops the tunnel at stop anyway.
            }
        }

        await Alice.DisposeAsync();
        await Bob.DisposeAsync();
    }

    private static HandsetConfig Config(string nai, string protect, RequestRetryPolicy? retry) => new()
    {
        Identity = new SubscriberIdentity(IdentityType.Nai, nai),
        Secret = Encoding.UTF8.GetBytes(Subscribers.Secret(nai)),
        Policies =
        [
            new SecurityPolicy(PolicyAction.Protect, Selectors.Any(AddressFamily.InterNetwork), Selectors.Prefix(protect), "protect " + protect),
            new SecurityPolicy(PolicyAction.Bypass, Selectors.Any(AddressFamily.InterNetwork), Selectors.Any(AddressFamily.InterNetwork), "clear"),
        ],
        RequestRetry = retry ?? RequestRetryPolicy.Default,
    };

    internal static byte[] Udp(IPAddress source, ushort sourcePort, IPAddress destination, ushort destinationPort, string text)
    {
        var payload = Encoding.ASCII.GetBytes(text);
        var packet = new byte[UdpPacketWriter.HeaderSize(IpFamily.V6) + payload.Length];
        if (UdpPacketWriter.TryWrite(packet, IpAddressValue.FromIPAddress(source), sourcePort, IpAddressValue.FromIPAddress(destination),
                destinationPort, payload, out int n) != PacketError.None)
        {
            throw new InvalidOperationException("cannot build the packet");
        }

        return packet[..n];
    }

    internal static string Text(byte[] packet) =>
        IpPacket.TryRead(packet, out var ip) != PacketError.None || UdpDatagram.TryRead(ip, out var udp) != PacketError.None
            ? "(not UDP)"
            : Encoding.ASCII.GetString(udp.Payload);
}
