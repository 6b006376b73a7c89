using System.Net;
using CsCheck;
using KeyProxy.Wire.Ip;

namespace KeyProxy.Wire.Tests;

/// <summary>RFC 1071 checksum: published answers, and the incremental API against a naive reference.</summary>
public class ChecksumTests
{
    /// <summary>The textbook reference: sum 16-bit words one by one, end-around carry each time, complement.</summary>
    internal static ushort Naive(byte[] data)
    {
        int sum = 0;
        for (int i = 0; i < data.Length; i += 2)
        {
            int word = data[i] << 8 | (i + 1 < data.Length ? data[i + 1] : 0);
            sum += word;
            if (sum > 0xFFFF)
                sum = (sum & 0xFFFF) + 1;
        }

        return (ushort)~sum;
    }

    [Fact]
    public void Rfc1071NumericalExample()
    {
        // RFC 1071 3: the bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2 (one's complement); the checksum is its complement.
        var data = Hex.Parse("0001f203f4f5f6f7");
        var sum = new InternetChecksum();
        sum.Add(data);
        Assert.Equal(0xddf2, sum.Sum());
        Assert.Equal(0x220d, InternetChecksum.Compute(data));
    }

    [Fact]
    public void KnownIpv4HeaderChecksum()
    {
        // A widely published example header (192.168.0.1 -> 192.168.0.199, UDP, TTL 64, DF) with checksum b861.
        var header = Hex.Parse("450000730000400040110000c0a80001c0a800c7");
        Assert.Equal(0xb861, InternetChecksum.Compute(header));
        header[10] = 0xb8;
        header[11] = 0x61;
        Assert.Equal(0, InternetChecksum.Compute(header));

        Span<byte> written = stackalloc byte[20];
        Ipv4Header.Write(written, 0xc0a80001, 0xc0a800c7, 17, 0x73, ttl: 64);
        Assert.Equal(Hex.Of(header), Hex.Of(written));
    }

    [Fact]
    public void IncrementalOverArbitrarySplitsEqualsNaive()
    {
        Gen.Select(Gen.Byte.Array[0, 300], Gen.Int[0, 300].Array[0, 6]).Sample((data, cuts) =>
        {
            var c = new InternetChecksum();
            int pos = 0;
            foreach (int cut in cuts.Select(x => Math.Min(x, data.Length)).Order())
            {
                c.Add(data.AsSpan(pos, cut - pos));
                pos = cut;
            }

            c.Add(data.AsSpan(pos));
            Assert.Equal(Naive(data), c.Finish());
            Assert.Equal(Naive(data), InternetChecksum.Compute(data));
        }, iter: 3000);
    }

    /// <summary>UDP checksum computed by a naive, independent construction of the pseudo-header bytes.</summary>
    static ushort NaiveUdpChecksum(IPAddress source, IPAddress destination, byte[] udpSegment)
    {
        var pseudo = new List<byte>();
        pseudo.AddRange(source.GetAddressBytes());
        pseudo.AddRange(destination.GetAddressBytes());
        if (source.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
        {
            // RFC 768: zero, protocol, UDP length (16 bits)
            pseudo.Add(0);
            pseudo.Add(17);
            pseudo.Add((byte)(udpSegment.Length >> 8));
            pseudo.Add((byte)udpSegment.Length);
        }
        else
        {
            // RFC 8200 8.1: upper-layer packet length (32 bits), three zero bytes, next header
            pseudo.AddRange([(byte)(udpSegment.Length >> 24), (byte)(udpSegment.Length >> 16), (byte)(udpSegment.Length >> 8), (byte)udpSegment.Length]);
            pseudo.AddRange([0, 0, 0, 17]);
        }

        var segment = (byte[])udpSegment.Clone();
        segment[6] = 0;
        segment[7] = 0;
        ushort checksum = Naive([.. pseudo, .. segment]);
        return checksum == 0 ? (ushort)0xFFFF : checksum;
    }

    [Fact]
    public void UdpChecksumOverIpv4AndIpv6MatchesNaiveReference()
    {
        Gen.Select(Gen.Bool, WireGen.V4, WireGen.V4, WireGen.V6, WireGen.V6, Gen.UShort, Gen.UShort, Gen.Byte.Array[0, 600])
            .Sample((v6, s4, d4, s6, d6, sp, dp, payload) =>
            {
                var source = v6 ? s6 : s4;
                var destination = v6 ? d6 : d4;
                var buffer = new byte[payload.Length + 48];
                var error = UdpPacketWriter.TryWrite(buffer, IpAddressValue.FromIPAddress(source), sp,
                    IpAddressValue.FromIPAddress(destination), dp, payload, out int written);
                Assert.Equal(PacketError.None, error);
                int ipHeader = v6 ? 40 : 20;
                var udp = buffer.AsSpan(ipHeader, written - ipHeader).ToArray();
                Assert.Equal(NaiveUdpChecksum(source, destination, udp), (ushort)(udp[6] << 8 | udp[7]));
                if (!v6)
                    Assert.Equal(0, InternetChecksum.Compute(buffer.AsSpan(0, 20)));
            }, iter: 2000);
    }

    [Fact]
    public void KnownUdpOverIpv4Packet()
    {
        // 192.0.2.1:500 -> 198.51.100.7:500, payload "KeyProxy"; checksum worked out by hand:
        // pseudo-header c000+0201+c633+6407+0011+0010 = 0x1ec5c; UDP header 01f4+01f4+0010 = 0x03f8;
        // "KeyProxy" 4b65+7950+726f+7879 = 0x1af9d; total 0x39ff1 -> fold 0x9ff4 -> complement 0x600b.
        var buffer = new byte[36];
        UdpPacketWriter.TryWrite(buffer, IpAddressValue.FromIPAddress(IPAddress.Parse("192.0.2.1")), 500,
            IpAddressValue.FromIPAddress(IPAddress.Parse("198.51.100.7")), 500, "KeyProxy"u8, out _);
        Assert.Equal(0x600b, buffer[26] << 8 | buffer[27]);
    }
}
