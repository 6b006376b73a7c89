using System.Net;
using System.Net.Sockets;
using KeyProxy.Abstractions;
using KeyProxy.Edge.Batching;
using KeyProxy.Wire;
using KeyProxy.Wire.Access;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace KeyProxy.Edge.Tests;

/// <summary>recvmmsg/sendmmsg batches on real loopback UDP sockets, and the edge's batched access loop.</summary>
public sealed class DatagramBatchTests
{
    private static Socket Udp()
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return s;
    }

    private static byte[] Datagram(int i) => [.. Enumerable.Range(0, 10 + i * 7).Select(b => (byte)(b + i))];

    [Fact]
    public void Several_datagrams_arrive_in_one_receive_with_their_sources()
    {
        using var receiver = Udp();
        using var a = Udp();
        using var b = Udp();
        for (int i = 0; i < 6; i++) (i % 2 == 0 ? a : b).SendTo(Datagram(i), receiver.LocalEndPoint!);
        Assert.Equal(64, System.Runtime.CompilerServices.Unsafe.SizeOf<KeyProxy.Edge.Tun.LinuxNative.MMsgHdr>()); // struct mmsghdr, LP64
        // Loopback delivers within sendto: all six are queued now.
        var batch = new DatagramBatch(8, 2048);
        Assert.Equal(6, batch.Receive(receiver.SafeHandle));
        var fromA = a.LocalEndPoint!.Serialize();
        var fromB = b.LocalEndPoint!.Serialize();
        for (int i = 0; i < 6; i++)
        {
            Assert.Equal(Datagram(i), batch.Received(i).ToArray());
            Assert.False(batch.Truncated(i));
            var expected = i % 2 == 0 ? fromA : fromB;
            Assert.Equal(expected.Buffer.Span[..expected.Size].ToArray(), batch.Source(i).ToArray());
        }
        Assert.Equal(0, batch.Receive(receiver.SafeHandle)); // nothing left: no wait
    }

    [Fact]
    public void A_full_batch_leaves_the_rest_queued_and_a_long_datagram_is_seen_as_cut()
    {
        using var receiver = Udp();
        using var sender = Udp();
        for (int i = 0; i < 5; i++) sender.SendTo(Datagram(i), receiver.LocalEndPoint!);
        var batch = new DatagramBatch(3, 30); // datagrams 3 and 4 (31 and 38 bytes) do not fit a slot
        Assert.Equal(3, batch.Receive(receiver.SafeHandle));
        Assert.Equal(Datagram(2), batch.Received(2).ToArray());
        Assert.Equal(2, batch.Receive(receiver.SafeHandle));
        Assert.True(batch.Truncated(0));
        Assert.True(batch.Truncated(1));
        Assert.Equal(30, batch.Received(1).Length);
    }

    [Fact]
    public void Queued_datagrams_leave_in_one_send_each_to_its_destination()
    {
        using var sender = Udp();
        using var x = Udp();
        using var y = Udp();
        var toX = x.LocalEndPoint!.Serialize();
        var toY = y.LocalEndPoint!.Serialize();
        var batch = new DatagramBatch(4, 100);
        for (int i = 0; i < 4; i++)
        {
            int slot = batch.NextSlot;
            Datagram(i).CopyTo(batch.Slot(slot)[5..]);
            var to = i < 3 ? toX : toY;
            batch.Queue(5, Datagram(i).Length, to.Buffer.Span[..to.Size]);
        }
        Assert.Equal(-1, batch.NextSlot);
        Assert.Equal(4, batch.Send(sender.SafeHandle));
        Assert.Equal(0, batch.Queued);
        var buffer = new byte[200];
        for (int i = 0; i < 3; i++) Assert.Equal(Datagram(i), buffer.AsSpan(0, x.Receive(buffer)).ToArray());
        Assert.Equal(Datagram(3), buffer.AsSpan(0, y.Receive(buffer)).ToArray());
    }

    [Fact]
    public void Receiving_and_sending_batches_allocates_nothing()
    {
        using var receiver = Udp();
        using var sender = Udp();
        var to = receiver.LocalEndPoint!.Serialize();
        var send = new DatagramBatch(16, 256);
        var receive = new DatagramBatch(16, 256);
        long allocated = -1;
        for (int round = 0; round < 3; round++) // the first rounds JIT the calls
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 16; i++) send.Queue(0, 64, to.Buffer.Span[..to.Size]);
            int sent = send.Send(sender.SafeHandle);
            int received = receive.Receive(receiver.SafeHandle);
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Equal(16, sent);
            Assert.Equal(16, received);
        }
        Assert.Equal(0, allocated);
    }

    /// <summary>
    /// The edge's access loop with and without batching: a burst of attach requests from several handsets, sent before the
    /// edge reads any, is classified whole (each answered with its own challenge), and a burst of data for tunnels the edge
    /// does not know is counted, one drop each.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(32)]
    public async Task A_burst_on_the_access_socket_is_classified_datagram_by_datagram(int ioBatch)
    {
        var options = new EdgeOptions { EdgeId = "batch-test-" + ioBatch, AccessEndpoint = "127.0.0.1:0", AddressPool = "127.9.0.0/24", IoBatch = ioBatch };
        using var edge = new EdgeGateway(Options.Create(options), Options.Create(new ProxyNetworkOptions()), null!, null!, NullLogger<EdgeGateway>.Instance);
        await edge.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            using var handsets = Udp();
            using var other = Udp();
            handsets.ReceiveTimeout = other.ReceiveTimeout = 10_000;
            const int Requests = 40;
            for (int i = 0; i < Requests; i++)
            {
                var request = new AttachRequest(new SubscriberIdentity(IdentityType.Nai, $"h{i}@batch.test"), new Nonce16((UInt128)(1000 + i)));
                (i % 2 == 0 ? handsets : other).SendTo(request.ToArray(), edge.AccessEndPoint);
            }
            var data = new byte[AccessData.HeaderSize + 20];
            data[AccessData.HeaderSize] = 0x45;
            for (int i = 0; i < 10; i++)
            {
                AccessData.WriteHeader(data, (uint)(0x7000 + i));
                handsets.SendTo(data, edge.AccessEndPoint);
            }
            var nonces = new HashSet<UInt128>();
            var buffer = new byte[2048];
            for (int i = 0; i < Requests; i++)
            {
                var socket = i < Requests / 2 ? handsets : other;
                int n = socket.Receive(buffer);
                Assert.Equal(WireError.None, AccessMessage.TryParse(buffer.AsSpan(0, n), out var answer));
                var challenge = Assert.IsType<AttachChallenge>(answer);
                Assert.Equal(i < Requests / 2 ? 0 : 1, (int)(challenge.HandsetNonce.Value - 1000) % 2);
                Assert.True(nonces.Add(challenge.HandsetNonce.Value));
            }
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (edge.Metrics.Drops(EdgeDropReason.UnknownTunnel) < 10 && DateTime.UtcNow < deadline) await Task.Delay(20, TestContext.Current.CancellationToken);
            Assert.Equal(10, edge.Metrics.Drops(EdgeDropReason.UnknownTunnel));
            Assert.Equal(Requests, edge.Metrics.Packets(EdgePacketClass.AccessControl));
        }
        finally
        {
            await edge.StoppingAsync(CancellationToken.None);
        }
    }
}
