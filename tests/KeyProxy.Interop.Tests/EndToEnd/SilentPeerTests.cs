using System.Net;
using System.Net.Sockets;
using KeyProxy.Handset;
using KeyProxy.Interop.Tests.Fixtures;
using KeyProxy.Wire;

namespace KeyProxy.Interop.Tests.EndToEnd;

/// <summary>
/// Flow 1 towards a peer that never answers (RFC 7296 2.4: the initiator gives up after retransmitting): the handset
/// learns why from the network before its own patience ends, and its retried requests do not each start an IKE SA.
/// </summary>
public sealed class SilentPeerTests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_peer_that_never_answers_is_reported_to_the_handset_and_costs_one_ike_sa()
    {
        await using var world = await ProxiedWorld.StartAsync(ct: Ct);
        // The peer's IKE port is open in its namespace and reads every datagram, but answers none.
        using var silent = world.Ns.BindUdp(new IPEndPoint(world.Peer, 500));
        var initiatorSpis = new HashSet<ulong>();
        int received = 0;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var reader = Task.Run(async () =>
        {
            var buffer = new byte[4096];
            while (!stop.IsCancellationRequested)
            {
                SocketReceiveFromResult r;
                try { r = await silent.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), stop.Token); }
                catch (Exception) { return; }
                // RFC 7296 3.1: the IKE header starts with the initiator's SPI.
                if (r.ReceivedBytes >= 28)
                    lock (initiatorSpis)
                    {
                        received++;
                        initiatorSpis.Add(System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(buffer));
                    }
            }
        }, CancellationToken.None);

        var (handset, events, attached) = await world.AttachAsync(Ct);
        try
        {
            Assert.Equal(HandsetPacketStatus.Held, handset.Send(Proxied.Udp(attached.Address, 40000, world.Peer, 7, "to a silent peer")).Status);
            // The handset's own patience is RequestRetryPolicy.Default's budget (30 s): the answer must come before it.
            var ended = await events.WaitAsync<HandsetEvent>(e => e is ProxyRefused or ProxyRequestTimedOut, RequestRetryPolicy.Default.Budget + TimeSpan.FromSeconds(10), Ct);
            var refused = Assert.IsType<ProxyRefused>(ended);
            Assert.False(refused.ByEdge);
            Assert.Equal(KeyProxyReason.Timeout, refused.Reason);
            Assert.Contains("peer not responding", refused.Text);
            Assert.Equal(1, refused.DroppedPackets);
            Assert.True(events.All<ProxyRequested>().Count > 1, "the handset retried its request meanwhile");
            lock (initiatorSpis)
            {
                output.WriteLine($"{received} IKE datagrams reached the silent peer, {initiatorSpis.Count} IKE SA(s): " +
                    string.Join(", ", initiatorSpis.Select(s => s.ToString("x16"))));
                Assert.True(received > 1, "the proxy retransmitted its IKE_SA_INIT");
                Assert.Single(initiatorSpis);
            }
        }
        catch (Exception) { output.WriteLine(world.Describe()); output.WriteLine("handset events:\n" + events); throw; }
        finally
        {
            stop.Cancel();
            await reader;
        }
    }
}
