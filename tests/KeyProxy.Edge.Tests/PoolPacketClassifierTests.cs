using System.Buffers.Binary;
using System.Net;
using CsCheck;
using KeyProxy.Edge.Classification;
using KeyProxy.Wire.Ip;

namespace KeyProxy.Edge.Tests;

/// <summary>
/// Whole IP packets for a pool address (the TUN packet path): IKE on the IKE and NAT-T ports, ESP in UDP, plain ESP
/// (IP protocol 50), and everything else kept apart so the edge can count it.
/// </summary>
public sealed class PoolPacketClassifierTests
{
    private const ushort IkePort = 500, NatTPort = 4500;
    private static readonly IpAddressValue Handset = IpAddressValue.FromIPAddress(IPAddress.Parse("100.64.0.5"));
    private static readonly IpAddressValue Peer = IpAddressValue.FromIPAddress(IPAddress.Parse("198.18.0.1"));

    /// <summary>
    /// draft-mcgrew-gcm-test-01 section 4, packet 2: a real IPv4/UDP datagram (192.168.1.2:2712 to 192.168.1.1:53, a DNS
    /// query) with its header and UDP checksums as captured; its ciphertext under SPI 0x0000a5f8, sequence 10.
    /// </summary>
    private const string DraftPacket2 = "4500003e698f000080114dccc0a80102c0a801010a980035002a2343b2d001000001000000000000037369700963796265726369747902646b00000100010001";
    private const string DraftCipher2 = "deb22cd9b07c72c16e3a65beeb8df304a5a5897d33ae530f1ba76d5d114d2a5c3de81827c10e9a4f51330d0eec416642cfbb85a5b47e48a4ec3b9ba95d918bd183b70d3aa8bc6ee4c309e9d85a41ad4a";

    private static byte[] Udp(ushort sourcePort, ushort destinationPort, byte[] payload)
    {
        var packet = new byte[28 + payload.Length];
        Assert.Equal(PacketError.None, UdpPacketWriter.TryWrite(packet, Peer, sourcePort, Handset, destinationPort, payload, out int n));
        return packet[..n];
    }

    /// <summary>IPv4 (RFC 791) from the peer to the handset with the given protocol and payload, header checksum set.</summary>
    private static byte[] Ip(byte protocol, byte[] payload)
    {
        var packet = new byte[20 + payload.Length];
        payload.CopyTo(packet, 20);
        Ipv4Header.Write(packet, (uint)Peer.Value, (uint)Handset.Value, protocol, (ushort)packet.Length, 64);
        return packet;
    }

    /// <summary>An IKE header (RFC 7296 3.1): IKE_SA_INIT request from the initiator unless told otherwise.</summary>
    private static byte[] Ike(ulong spii, ulong spir, byte exchange = 34, byte flags = 0x08)
    {
        var ike = new byte[60];
        BinaryPrimitives.WriteUInt64BigEndian(ike, spii);
        BinaryPrimitives.WriteUInt64BigEndian(ike.AsSpan(8), spir);
        ike[16] = 33;
        ike[17] = 0x20;
        ike[18] = exchange;
        ike[19] = flags;
        BinaryPrimitives.WriteUInt32BigEndian(ike.AsSpan(24), (uint)ike.Length);
        return ike;
    }

    private static byte[] EspHeader(uint spi, uint sequence, byte[] rest)
    {
        var esp = new byte[8 + rest.Length];
        BinaryPrimitives.WriteUInt32BigEndian(esp, spi);
        BinaryPrimitives.WriteUInt32BigEndian(esp.AsSpan(4), sequence);
        rest.CopyTo(esp, 8);
        return esp;
    }

    [Fact]
    public void Ike_on_the_ike_port_and_behind_the_marker_on_the_nat_t_port()
    {
        var init = Udp(500, IkePort, Ike(0x1122, 0));
        Assert.Equal(NetworkPacketKind.IkeSaInitRequest, EdgeClassifier.ClassifyPoolPacket(init, IkePort, NatTPort, out var info));
        Assert.Equal(new PoolPacketInfo(Handset, Peer, 500, IkePort, false, 28, 0, 0x1122, 0), info);

        var auth = Udp(4500, NatTPort, [0, 0, 0, 0, .. Ike(0x3344, 0x5566, exchange: 35, flags: 0x20)]);
        Assert.Equal(NetworkPacketKind.Ike, EdgeClassifier.ClassifyPoolPacket(auth, IkePort, NatTPort, out info));
        Assert.Equal(new PoolPacketInfo(Handset, Peer, 4500, NatTPort, true, 28, 4, 0x3344, 0x5566), info);
        Assert.Equal(0x3344UL, BinaryPrimitives.ReadUInt64BigEndian(auth.AsSpan(info.PayloadOffset + info.IkeOffset)));
    }

    [Fact]
    public void Esp_in_udp_keepalives_and_plain_esp_from_the_draft_packet()
    {
        var cipher = Convert.FromHexString(DraftCipher2);
        var inUdp = Udp(4500, NatTPort, EspHeader(0xa5f8, 10, cipher));
        Assert.Equal(NetworkPacketKind.Esp, EdgeClassifier.ClassifyPoolPacket(inUdp, IkePort, NatTPort, out var info));
        Assert.Equal((true, 28), (info.NatTraversal, info.PayloadOffset));
        Assert.Equal(NetworkPacketKind.NatKeepalive, EdgeClassifier.ClassifyPoolPacket(Udp(4500, NatTPort, [0xff]), IkePort, NatTPort, out _));

        var plain = Ip(50, EspHeader(0xa5f8, 10, cipher));
        Assert.Equal(NetworkPacketKind.PlainEsp, EdgeClassifier.ClassifyPoolPacket(plain, IkePort, NatTPort, out info));
        Assert.Equal(new PoolPacketInfo(Handset, Peer, 0, 0, false, 20, 0, 0, 0), info);
        // RFC 4303 2.1: SPI 0 is never sent, 1-255 are reserved; and an ESP header with nothing after it is no packet.
        Assert.Equal(NetworkPacketKind.Malformed, EdgeClassifier.ClassifyPoolPacket(Ip(50, EspHeader(0, 1, cipher)), IkePort, NatTPort, out _));
        Assert.Equal(NetworkPacketKind.Malformed, EdgeClassifier.ClassifyPoolPacket(Ip(50, EspHeader(255, 1, cipher)), IkePort, NatTPort, out _));
        Assert.Equal(NetworkPacketKind.Malformed, EdgeClassifier.ClassifyPoolPacket(Ip(50, EspHeader(0xa5f8, 1, [])), IkePort, NatTPort, out _));
    }

    [Fact]
    public void Other_protocols_and_ports_are_other_traffic()
    {
        // The draft's captured DNS query: valid IPv4 and UDP checksums, port 53.
        Assert.Equal(NetworkPacketKind.OtherTraffic, EdgeClassifier.ClassifyPoolPacket(Convert.FromHexString(DraftPacket2), IkePort, NatTPort, out _));
        Assert.Equal(NetworkPacketKind.OtherTraffic, EdgeClassifier.ClassifyPoolPacket(Udp(500, 501, Ike(1, 0)), IkePort, NatTPort, out _));
        Assert.Equal(NetworkPacketKind.OtherTraffic, EdgeClassifier.ClassifyPoolPacket(Ip(1, [8, 0, 0xf7, 0xff, 0, 0, 0, 0]), IkePort, NatTPort, out _)); // ICMP echo
        // Other ports: a peer off 500 still sends to the handset's ports, which decide.
        Assert.Equal(NetworkPacketKind.IkeSaInitRequest, EdgeClassifier.ClassifyPoolPacket(Udp(20500, 2500, Ike(7, 0)), 2500, 2501, out var info));
        Assert.False(info.NatTraversal);
    }

    [Fact]
    public void Bad_checksums_fragments_and_keyproxy_messages_are_kept_apart()
    {
        var packet = Convert.FromHexString(DraftPacket2);
        packet[^1] ^= 1; // the UDP checksum no longer verifies
        packet[22] = 0x01; packet[23] = 0xf4; // port 500, so it is not "other traffic" first
        Assert.Equal(NetworkPacketKind.Malformed, EdgeClassifier.ClassifyPoolPacket(packet, IkePort, NatTPort, out _));

        var ike = Udp(500, IkePort, Ike(1, 0));
        ike[11] ^= 0x40; // IPv4 header checksum
        Assert.Equal(NetworkPacketKind.Malformed, EdgeClassifier.ClassifyPoolPacket(ike, IkePort, NatTPort, out _));

        var fragment = Udp(500, IkePort, Ike(1, 0));
        fragment[6] |= 0x20; // More Fragments
        BinaryPrimitives.WriteUInt16BigEndian(fragment.AsSpan(10), 0);
        BinaryPrimitives.WriteUInt16BigEndian(fragment.AsSpan(10), HeaderChecksum(fragment.AsSpan(0, 20)));
        Assert.Equal(NetworkPacketKind.Fragment, EdgeClassifier.ClassifyPoolPacket(fragment, IkePort, NatTPort, out _));

        byte[] proxyRequestHeader = [0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0, 100, 0, 0x20, 240, 0x08, 0, 0, 0, 0, 0, 0, 0, 28];
        Assert.Equal(NetworkPacketKind.ProxyRequest, EdgeClassifier.ClassifyPoolPacket(Udp(500, IkePort, proxyRequestHeader), IkePort, NatTPort, out _));
    }

    /// <summary>The IPv4 header checksum (RFC 791 3.1) of a header whose checksum field is zero.</summary>
    private static ushort HeaderChecksum(ReadOnlySpan<byte> header)
    {
        var sum = new InternetChecksum();
        sum.Add(header);
        return sum.Finish();
    }

    [Fact]
    public void Random_bytes_and_mangled_packets_never_throw()
    {
        var valid = Udp(4500, NatTPort, [0, 0, 0, 0, .. Ike(0x3344, 0x5566)]);
        Gen.Byte.Array[0, 120].Sample(bytes => { EdgeClassifier.ClassifyPoolPacket(bytes, IkePort, NatTPort, out _); }, iter: 20_000);
        Gen.Int[0, valid.Length - 1].Select(Gen.Byte).Sample((at, value) =>
        {
            var mangled = (byte[])valid.Clone();
            mangled[at] = value;
            EdgeClassifier.ClassifyPoolPacket(mangled, IkePort, NatTPort, out _);
        }, iter: 5_000);
    }

    [Fact]
    public void Classifying_whole_packets_allocates_nothing()
    {
        var esp = Udp(4500, NatTPort, EspHeader(0xa5f8, 10, Convert.FromHexString(DraftCipher2)));
        var plain = Ip(50, EspHeader(0xa5f8, 10, Convert.FromHexString(DraftCipher2)));
        long allocated = -1;
        for (int round = 0; round < 3; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 1000; i++)
            {
                EdgeClassifier.ClassifyPoolPacket(esp, IkePort, NatTPort, out _);
                EdgeClassifier.ClassifyPoolPacket(plain, IkePort, NatTPort, out _);
            }
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }
        Assert.Equal(0, allocated);
    }
}
