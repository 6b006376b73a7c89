using System.Net;
using CsCheck;
using KeyProxy.Edge.Classification;
using KeyProxy.Ike.Messages;
using KeyProxy.Wire;
using KeyProxy.Wire.Ip;
using KeyProxy.Wire.Proxy;

namespace KeyProxy.Edge.Tests;

/// <summary>The seed's S21-S24 order on spans: what each kind of packet is taken for, and that junk is only ever "malformed".</summary>
public sealed class EdgeClassifierTests
{
    private static readonly IPAddress Handset = IPAddress.Parse("127.0.1.5");
    private static readonly IPAddress Peer = IPAddress.Parse("198.51.100.7");
    private static readonly IpAddressValue HandsetValue = IpAddressValue.FromIPAddress(Handset);

    private static byte[] Udp(IPAddress source, ushort sourcePort, IPAddress destination, ushort destinationPort, byte[] payload)
    {
        var packet = new byte[28 + payload.Length];
        Assert.Equal(PacketError.None, UdpPacketWriter.TryWrite(packet, IpAddressValue.FromIPAddress(source), sourcePort,
            IpAddressValue.FromIPAddress(destination), destinationPort, payload, out int n));
        return packet[..n];
    }

    private static byte[] ProxyRequestBytes() => new ProxyRequest(9, ProxyRequestFlags.None, new Nonce16(1), [], [], []).ToArray();

    private static byte[] KeyTransferBytes()
    {
        using var sealer = new KeyTransferSealer(new byte[32]);
        return sealer.Seal(1, new SaDelete(SaDeleteReason.PeerDeleted, [0x1000]));
    }

    /// <summary>An IKE_SA_INIT request header (RFC 7296 3.1) with the given SPIs, then filler.</summary>
    private static byte[] Ike(ulong spii, ulong spir, byte exchange = 34, byte flags = 0x08)
    {
        var ike = new byte[60];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(ike, spii);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(ike.AsSpan(8), spir);
        ike[16] = 33;
        ike[17] = 0x20;
        ike[18] = exchange;
        ike[19] = flags;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(ike.AsSpan(24), (uint)ike.Length);
        return ike;
    }

    [Fact]
    public void Access_side_kinds_in_the_seeds_order()
    {
        var request = Udp(Handset, 500, Peer, 500, ProxyRequestBytes());
        Assert.Equal(AccessPacketKind.ProxyRequest, EdgeClassifier.ClassifyAccess(request, HandsetValue, out var info));
        Assert.Equal(ProxyRequestBytes(), request[info.PayloadOffset..]);
        Assert.Equal((IpAddressValue.FromIPAddress(Peer), (ushort)500, (ushort)500), (info.Destination, info.SourcePort, info.DestinationPort));
        Assert.Equal(AccessPacketKind.KeyTransfer, EdgeClassifier.ClassifyAccess(Udp(Handset, 500, Peer, 500, KeyTransferBytes()), HandsetValue, out _));
        Assert.Equal(AccessPacketKind.Route, EdgeClassifier.ClassifyAccess(Udp(Handset, 4500, Peer, 4500, [0, 0, 1, 0, 0, 0, 0, 1, 9, 9]), HandsetValue, out _));
        Assert.Equal(AccessPacketKind.Route, EdgeClassifier.ClassifyAccess(Udp(Handset, 500, Peer, 500, Ike(7, 0)), HandsetValue, out _));
        Assert.Equal(AccessPacketKind.Spoofed, EdgeClassifier.ClassifyAccess(Udp(Peer, 500, Handset, 500, ProxyRequestBytes()), HandsetValue, out _));
        Assert.Equal(AccessPacketKind.Malformed, EdgeClassifier.ClassifyAccess([0x45, 0, 0, 10], HandsetValue, out _));
    }

    [Fact]
    public void Network_side_kinds_with_and_without_the_non_esp_marker()
    {
        Assert.Equal(NetworkPacketKind.IkeSaInitRequest, EdgeClassifier.ClassifyNetwork(Ike(0x1122, 0), false, out int offset, out ulong spii, out _));
        Assert.Equal((0, 0x1122UL), (offset, spii));
        byte[] marked = [0, 0, 0, 0, .. Ike(0x3344, 0x5566, exchange: 35, flags: 0x20)];
        Assert.Equal(NetworkPacketKind.Ike, EdgeClassifier.ClassifyNetwork(marked, true, out offset, out spii, out ulong spir));
        Assert.Equal((4, 0x3344UL, 0x5566UL), (offset, spii, spir));
        Assert.Equal(NetworkPacketKind.Ike, EdgeClassifier.ClassifyNetwork(marked, false, out offset, out _, out _)); // marked on the IKE port too
        Assert.Equal(4, offset);
        Assert.Equal(NetworkPacketKind.Esp, EdgeClassifier.ClassifyNetwork([0, 0, 0x10, 0, 0, 0, 0, 1, 1, 2, 3, 4], true, out _, out _, out _));
        Assert.Equal(NetworkPacketKind.NatKeepalive, EdgeClassifier.ClassifyNetwork([0xff], true, out _, out _, out _));
    }

    [Fact]
    public void A_marked_ike_response_on_the_ike_port_is_found_whatever_its_responder_spi_holds()
    {
        // Found by the load tool on a cluster with both IKE ports off 500: after the marker, byte 17 of the
        // datagram is a byte of the responder SPI; when its high nibble was 2 (one response in 16) the edge
        // took the header at offset 0, read SPIi as 00000000 + its first half, found no route and dropped it.
        Gen.UInt.Select(Gen.ULong).Sample((spiHigh, spir) =>
        {
            ulong spii = (ulong)(spiHigh | 1) << 32 | 0x9abc;
            spir = (spir & ~0x0000_0000_00f0_0000UL) | 0x0000_0000_0020_0000UL; // its byte 5, datagram byte 17: 0x2?
            byte[] marked = [0, 0, 0, 0, .. Ike(spii, spir, exchange: 34, flags: 0x20)];
            Assert.Equal(NetworkPacketKind.Ike, EdgeClassifier.ClassifyNetwork(marked, false, out int offset, out ulong readSpii, out ulong readSpir));
            Assert.Equal((4, spii, spir), (offset, readSpii, readSpir));
        }, iter: 1_000);

        // Unmarked, with an initiator SPI that starts with four zero bytes: still at offset 0.
        var unmarked = Ike(0x0000_0000_1234_5678, 0x2222_2222_2222_2222, exchange: 34, flags: 0x20);
        Assert.Equal(NetworkPacketKind.Ike, EdgeClassifier.ClassifyNetwork(unmarked, false, out int at, out ulong spi, out _));
        Assert.Equal((0, 0x0000_0000_1234_5678UL), (at, spi));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void KeyProxy_messages_from_the_network_are_recognised_although_spi_100_starts_like_a_marker(bool natTraversalPort)
    {
        Assert.Equal(NetworkPacketKind.ProxyRequest, EdgeClassifier.ClassifyNetwork(ProxyRequestBytes(), natTraversalPort, out _, out _, out _));
        Assert.Equal(NetworkPacketKind.KeyTransfer, EdgeClassifier.ClassifyNetwork(KeyTransferBytes(), natTraversalPort, out _, out _, out _));
    }

    [Fact]
    public void Random_bytes_never_throw_on_either_side()
    {
        Gen.Byte.Array[0, 200].Sample(bytes =>
        {
            EdgeClassifier.ClassifyAccess(bytes, HandsetValue, out _);
            EdgeClassifier.ClassifyNetwork(bytes, false, out _, out _, out _);
            EdgeClassifier.ClassifyNetwork(bytes, true, out _, out _, out _);
        }, iter: 20_000);
    }

    [Fact]
    public void Classification_allocates_nothing()
    {
        var request = Udp(Handset, 4500, Peer, 4500, [0, 0, 0x10, 0, 0, 0, 0, 1, 1, 2, 3, 4]);
        var ike = Ike(0x1122, 0);
        long allocated = -1;
        for (int round = 0; round < 3; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 1000; i++)
            {
                EdgeClassifier.ClassifyAccess(request, HandsetValue, out _);
                EdgeClassifier.ClassifyNetwork(ike, false, out _, out _, out _);
            }
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }
        Assert.Equal(0, allocated);
    }
}
