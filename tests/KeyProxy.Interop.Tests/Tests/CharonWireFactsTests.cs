using System.Net;
using System.Net.Sockets;
using KeyProxy.Interop.Tests.Fixtures;

namespace KeyProxy.Interop.Tests.Tests;

/// <summary>
/// Executable facts about charon on non-standard ports that our engine must respect
/// (see infra/strongswan/README.md).
/// </summary>
public sealed class CharonWireFactsTests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>
    /// strongSwan prefixes IKE with the 4-byte non-ESP marker whenever neither UDP port is 500,
    /// already for IKE_SA_INIT on its IKE port, and takes an unmarked datagram on such a port for
    /// ESP and drops it silently. So talking to a charon on port P != 500 from a port != 500 means:
    /// marker on every IKE message, both ways.
    /// </summary>
    [Fact]
    public async Task Charon_off_port_500_marks_ike_with_non_esp_marker_and_drops_unmarked_ike()
    {
        // Record a genuine IKE_SA_INIT request from one charon to another.
        await using var responder = await StrongSwanPeer.StartAsync(new() { ConnectionName = "resp" }, Ct);
        await using var initiator = await StrongSwanPeer.StartAsync(new()
        {
            ConnectionName = "init", RemoteAddress = "127.0.0.1", RemotePort = responder.IkePort,
        }, Ct);
        byte[] init;
        await using (var capture = await TsharkCapture.StartAsync([initiator.IkePort, responder.IkePort], ct: Ct))
        {
            await initiator.InitiateAsync(ct: Ct);
            var packets = await capture.ReadUdpPayloadsAsync(Ct);
            init = packets.First(p => p.SourcePort == initiator.IkePort && p.DestinationPort == responder.IkePort).Payload;
        }
        Assert.Equal([0, 0, 0, 0], init[..4]);     // non-ESP marker on the IKE port, IKE_SA_INIT
        Assert.Equal(34, init[4 + 18]);             // exchange type IKE_SA_INIT behind it
        await initiator.TerminateIkeAsync(ct: Ct);

        // Replay it to a fresh charon from our own socket: unmarked is ignored, marked is answered.
        await using var fresh = await StrongSwanPeer.StartAsync(new() { ConnectionName = "fresh" }, Ct);
        using var ports = PortAllocator.Allocate();
        using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, ports.Port));
        await udp.SendAsync(init.AsMemory(4), fresh.IkeEndPoint, Ct);
        var unmarked = await ReceiveAsync(udp, TimeSpan.FromSeconds(1.5));
        Assert.Null(unmarked);
        await fresh.WaitForLogAsync(@"received packet: from 127\.0\.0\.1\[" + ports.Port + @"\]", ct: Ct);
        Assert.DoesNotContain("parsed IKE_SA_INIT", fresh.LogText);

        await udp.SendAsync(init, fresh.IkeEndPoint, Ct);
        var reply = await ReceiveAsync(udp, TimeSpan.FromSeconds(5));
        Assert.NotNull(reply);
        Assert.Equal([0, 0, 0, 0], reply[..4]);
        Assert.Equal(34, reply[4 + 18]);
        Assert.Equal(0x20, reply[4 + 19] & 0x20);   // response flag
        output.WriteLine(fresh.LogTail(20));
    }

    private static async Task<byte[]?> ReceiveAsync(UdpClient udp, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            return (await udp.ReceiveAsync(cts.Token)).Buffer;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }
}
