using System.Buffers.Binary;
using System.Net;
using CsCheck;
using KeyProxy.Wire.Access;
using KeyProxy.Wire.Ip;

namespace KeyProxy.Wire.Tests;

/// <summary>IPv4/IPv6/UDP readers and the writer: round trips, each typed error, and mutated input.</summary>
public class IpPacketTests
{
    static readonly IpAddressValue A4 = IpAddressValue.FromIPAddress(IPAddress.Parse("192.0.2.1"));
    static readonly IpAddressValue B4 = IpAddressValue.FromIPAddress(IPAddress.Parse("198.51.100.7"));
    static readonly IpAddressValue A6 = IpAddressValue.FromIPAddress(IPAddress.Parse("2001:db8::1"));
    static readonly IpAddressValue B6 = IpAddressValue.FromIPAddress(IPAddress.Parse("2001:db8:ffff::7"));

    static byte[] Build(IpAddressValue s, IpAddressValue d, byte[] payload, ushort sp = 500, ushort dp = 4500)
    {
        var buffer = new byte[UdpPacketWriter.HeaderSize(s.Family) + payload.Length];
        Assert.Equal(PacketError.None, UdpPacketWriter.TryWrite(buffer, s, sp, d, dp, payload, out int n));
        Assert.Equal(buffer.Length, n);
        return buffer;
    }

    [Fact]
    public void WrittenPacketsReadBackOverBothFamilies()
    {
        Gen.Select(WireGen.AddressValue, WireGen.AddressValue, Gen.UShort, Gen.UShort, Gen.Byte.Array[0, 1500], Gen.Byte[1, 255])
            .Where((s, d, _, _, _, _) => s.Family == d.Family)
            .Sample((s, d, sp, dp, payload, ttl) =>
            {
                var buffer = new byte[payload.Length + 60];
                Assert.Equal(PacketError.None, UdpPacketWriter.TryWrite(buffer, s, sp, d, dp, payload, out int n, ttl));
                // trailing link padding is ignored
                Assert.Equal(PacketError.None, IpPacket.TryRead(buffer, out var ip));
                Assert.Equal(n, ip.Packet.Length);
                Assert.Equal(s, ip.Source);
                Assert.Equal(d, ip.Destination);
                Assert.Equal(ttl, ip.HopLimit);
                Assert.Equal(PacketError.None, UdpDatagram.TryRead(ip, out var udp));
                Assert.Equal(sp, udp.SourcePort);
                Assert.Equal(dp, udp.DestinationPort);
                Assert.True(udp.Payload.SequenceEqual(payload));
                var tuple = IpFiveTuple.Of(ip, udp);
                Assert.Equal(new IpFiveTuple(s, sp, d, dp, 17), tuple);
                Assert.Equal(tuple, tuple.Reversed().Reversed());
                Assert.True(AccessData.SourceMatches(buffer, s));
                Assert.Equal(s == d, AccessData.SourceMatches(buffer, d));
            }, iter: 2000);
    }

    [Fact]
    public void PayloadAlreadyInPlaceIsKept()
    {
        var payload = "in place"u8.ToArray();
        var buffer = new byte[48 + payload.Length];
        payload.CopyTo(buffer, 48);
        Assert.Equal(PacketError.None, UdpPacketWriter.TryWrite(buffer, A6, 1, B6, 2, buffer.AsSpan(48), out _));
        Assert.Equal(PacketError.None, IpPacket.TryRead(buffer, out var ip));
        Assert.Equal(PacketError.None, UdpDatagram.TryRead(ip, out var udp));
        Assert.True(udp.Payload.SequenceEqual(payload));
    }

    [Fact]
    public void WriterRejectsMixedFamiliesAndSmallBuffers()
    {
        Assert.Equal(PacketError.BadVersion, UdpPacketWriter.TryWrite(new byte[100], A4, 1, B6, 2, [], out _));
        Assert.Equal(PacketError.DestinationTooSmall, UdpPacketWriter.TryWrite(new byte[30], A4, 1, B4, 2, new byte[3], out _));
    }

    [Fact]
    public void Ipv4Errors()
    {
        var good = Build(A4, B4, new byte[10]);
        Assert.Equal(PacketError.Truncated, IpPacket.TryRead(good.AsSpan(0, 19), out _));
        Assert.Equal(PacketError.Truncated, IpPacket.TryRead([], out _));

        var bad = (byte[])good.Clone();
        bad[0] = 0x55;
        Assert.Equal(PacketError.BadVersion, IpPacket.TryRead(bad, out _));
        Assert.Equal(PacketError.BadVersion, IpPacket.TryReadV6(good, out _));

        bad = (byte[])good.Clone();
        bad[0] = 0x44;
        Assert.Equal(PacketError.BadHeaderLength, IpPacket.TryRead(bad, out _));
        bad[0] = 0x4F;
        Assert.Equal(PacketError.BadHeaderLength, IpPacket.TryRead(bad, out _));

        bad = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt16BigEndian(bad.AsSpan(2), (ushort)(good.Length + 1));
        Assert.Equal(PacketError.BadLength, IpPacket.TryRead(bad, out _));
        BinaryPrimitives.WriteUInt16BigEndian(bad.AsSpan(2), 19);
        Assert.Equal(PacketError.BadLength, IpPacket.TryRead(bad, out _));

        bad = (byte[])good.Clone();
        bad[8] ^= 1; // TTL changed, checksum not
        Assert.Equal(PacketError.BadHeaderChecksum, IpPacket.TryRead(bad, out _));
    }

    static byte[] WithFlags(byte[] packet, ushort flagsAndOffset)
    {
        var p = (byte[])packet.Clone();
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(6), flagsAndOffset);
        p[10] = p[11] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(10), InternetChecksum.Compute(p.AsSpan(0, 20)));
        return p;
    }

    [Fact]
    public void Ipv4FragmentsAreReportedWithTheirHeader()
    {
        var good = Build(A4, B4, new byte[10]);
        foreach (ushort flags in new ushort[] { 0x2000, 0x0001, 0x2010, 0x1FFF })
        {
            Assert.Equal(PacketError.Fragment, IpPacket.TryRead(WithFlags(good, flags), out var ip));
            Assert.Equal(A4, ip.Source);
            Assert.Equal(B4, ip.Destination);
        }

        Assert.Equal(PacketError.None, IpPacket.TryRead(WithFlags(good, 0), out var df));
        Assert.False(df.DontFragment);
    }

    [Fact]
    public void Ipv6Errors()
    {
        var good = Build(A6, B6, new byte[10]);
        Assert.Equal(PacketError.Truncated, IpPacket.TryRead(good.AsSpan(0, 39), out _));
        Assert.Equal(PacketError.BadLength, IpPacket.TryRead(good.AsSpan(0, good.Length - 1), out _));
        Assert.Equal(PacketError.BadVersion, IpPacket.TryReadV4(good, out _));

        var ext = (byte[])good.Clone();
        ext[6] = 44;
        Assert.Equal(PacketError.Fragment, IpPacket.TryRead(ext, out var ip));
        Assert.Equal(44, ip.Protocol);
        ext[6] = 0;
        Assert.Equal(PacketError.ExtensionHeader, IpPacket.TryRead(ext, out ip));
        Assert.Equal(0, ip.Protocol);
        Assert.Equal(A6, ip.Source);
        ext[6] = 50; // ESP ends the chain: an upper protocol for us
        Assert.Equal(PacketError.None, IpPacket.TryRead(ext, out ip));
        Assert.Equal(PacketError.NotUdp, UdpDatagram.TryRead(ip, out _));
    }

    [Fact]
    public void UdpErrors()
    {
        foreach (var (s, d, ipHeader) in new[] { (A4, B4, 20), (A6, B6, 40) })
        {
            var good = Build(s, d, new byte[11]);
            IpPacket.TryRead(good, out var ip);
            Assert.Equal(PacketError.None, UdpDatagram.TryRead(ip, out _));

            var bad = (byte[])good.Clone();
            bad[^1] ^= 0x40;
            IpPacket.TryRead(bad, out ip);
            Assert.Equal(PacketError.BadChecksum, UdpDatagram.TryRead(ip, out _));
            Assert.Equal(PacketError.None, UdpDatagram.TryRead(ip, out _, verifyChecksum: false));

            bad = (byte[])good.Clone();
            BinaryPrimitives.WriteUInt16BigEndian(bad.AsSpan(ipHeader + 4), 18);
            IpPacket.TryRead(bad, out ip);
            Assert.Equal(PacketError.BadLength, UdpDatagram.TryRead(ip, out _));

            // zero checksum: "none" over IPv4, forbidden over IPv6 (RFC 8200 8.1)
            bad = (byte[])good.Clone();
            bad[ipHeader + 6] = bad[ipHeader + 7] = 0;
            IpPacket.TryRead(bad, out ip);
            Assert.Equal(s.IsV4 ? PacketError.None : PacketError.BadChecksum, UdpDatagram.TryRead(ip, out _));
        }

        // a UDP header that does not fit
        var shortPacket = new byte[24];
        Ipv4Header.Write(shortPacket, 1, 2, 17, 24);
        IpPacket.TryRead(shortPacket, out var tiny);
        Assert.Equal(PacketError.Truncated, UdpDatagram.TryRead(tiny, out _));
    }

    [Fact]
    public void SourceCheckRejectsGarbage()
    {
        Assert.False(IpPacket.HasSource([], A4));
        Assert.False(IpPacket.HasSource(new byte[10], A4));
        Assert.False(IpPacket.HasSource(new byte[] { 0x45, 0, 0 }, A4));
        Assert.False(IpPacket.HasSource(Build(A6, B6, []), A4));
    }

    [Fact]
    public void AddressValueConversions()
    {
        WireGen.Address.Sample(a =>
        {
            var v = IpAddressValue.FromIPAddress(a);
            Assert.Equal(a, v.ToIPAddress());
            Assert.Equal(a.GetAddressBytes().Length, v.Length);
            Assert.True(v.Equals(a.GetAddressBytes()));
            Assert.Equal(a.ToString(), v.ToString());
        });
    }

    [Fact]
    public void MutatedPacketsGiveTypedErrors()
    {
        Gen.Select(Gen.Bool, Gen.Byte.Array[0, 200], Mutator.Some).Sample((v6, payload, mutations) =>
        {
            var packet = Mutator.Apply(v6 ? Build(A6, B6, payload) : Build(A4, B4, payload), mutations);
            var error = IpPacket.TryRead(packet, out var ip);
            Assert.True(Enum.IsDefined(error));
            if (error == PacketError.None)
            {
                var udpError = UdpDatagram.TryRead(ip, out var udp);
                Assert.True(Enum.IsDefined(udpError));
                if (udpError == PacketError.None)
                    Assert.Equal(udp.Length, ip.Payload.Length);
            }
        }, iter: 5000);
    }

    [Fact]
    public void PlainEspHeadersReadBackOverBothFamiliesAndRefuseWhatDoesNotFit()
    {
        foreach (var (s, d) in new[] { (A4, B4), (A6, B6) })
        {
            var esp = new byte[] { 0, 0, 0x12, 0x34, 0, 0, 0, 1, 0xaa, 0xbb };
            int header = IpPacketWriter.HeaderSize(s.Family);
            var buffer = new byte[header + esp.Length];
            esp.CopyTo(buffer, header);
            Assert.Equal(PacketError.None, IpPacketWriter.TryWriteHeader(buffer, s, d, IpPacket.Esp, esp.Length, out int n));
            Assert.Equal(buffer.Length, n);
            Assert.Equal(PacketError.None, IpPacket.TryRead(buffer, out var ip));
            Assert.Equal(IpPacket.Esp, ip.Protocol);
            Assert.Equal(s, ip.Source);
            Assert.Equal(d, ip.Destination);
            Assert.Equal(esp, ip.Payload.ToArray());
            Assert.Equal(PacketError.DestinationTooSmall, IpPacketWriter.TryWriteHeader(buffer.AsSpan(0, n - 1), s, d, IpPacket.Esp, esp.Length, out _));
        }
        Assert.Equal(PacketError.BadVersion, IpPacketWriter.TryWriteHeader(new byte[64], A4, B6, IpPacket.Esp, 4, out _));
    }
}
