using System.Net;
using CsCheck;
using KeyProxy.Wire.Access;
using KeyProxy.Wire.Ip;

namespace KeyProxy.Wire.Tests;

/// <summary>Access-link framing: round trips, strictness, truncations, mutations, the Data fast path.</summary>
public class AccessTests
{
    [Fact]
    public void RoundTripsEveryMessageType()
    {
        var seen = new HashSet<AccessMessageType>();
        WireGen.AccessMessage.Sample(message =>
        {
            var bytes = message.ToArray();
            Assert.Equal(message.GetEncodedLength(), bytes.Length);
            Assert.Equal(WireError.None, AccessMessage.TryParse(bytes, out var parsed));
            Assert.Equal(message.Type, parsed!.Type);
            Assert.Equal(message.TunnelId, parsed.TunnelId);
            Assert.Equal(bytes, parsed.ToArray());
            Assert.Equal(WireError.None, AccessHeader.TryRead(bytes, out var header));
            Assert.Equal(new AccessHeader(message.Type, message.TunnelId), header);
            lock (seen)
                seen.Add(message.Type);
            // value equality where the record holds no byte buffers
            if (message is AttachRequest or AttachChallenge or AttachReject or EchoRequest or EchoReply or DetachAck or ProxyRefusal)
                Assert.Equal(message, parsed);
        }, iter: 2000);
        Assert.Equal(Enum.GetValues<AccessMessageType>().Length, seen.Count);
    }

    [Fact]
    public void EveryTruncationIsATypedError()
    {
        WireGen.AccessMessage.Where(m => m is not DataPacket).Sample(message =>
        {
            var bytes = message.ToArray();
            // An AttachResponse cut right before its optional suite block is the same response without suites.
            int withoutSuites = message is AttachResponse { Suites.Count: > 0 } r ? (r with { Suites = [] }).GetEncodedLength() : -1;
            for (int n = 0; n < bytes.Length; n++)
            {
                if (n == withoutSuites)
                {
                    Assert.Equal(WireError.None, AccessMessage.TryParse(bytes.AsSpan(0, n), out var shorter));
                    Assert.Empty(Assert.IsType<AttachResponse>(shorter).Suites);
                    continue;
                }

                var error = AccessMessage.TryParse(bytes.AsSpan(0, n), out var parsed);
                Assert.NotEqual(WireError.None, error);
                Assert.True(Enum.IsDefined(error));
                Assert.Null(parsed);
            }
        }, iter: 200);
    }

    [Fact]
    public void MutatedDatagramsParseOrFailWithATypedError()
    {
        Gen.Select(WireGen.AccessMessage, Mutator.Some).Sample((message, mutations) =>
        {
            var bytes = Mutator.Apply(message.ToArray(), mutations);
            var error = AccessMessage.TryParse(bytes, out var parsed);
            Assert.True(Enum.IsDefined(error));
            if (error == WireError.None)
                Assert.Equal(bytes, parsed!.ToArray());
            else
                Assert.Null(parsed);
            var dataError = AccessData.TryRead(bytes, out _, out _);
            Assert.True(Enum.IsDefined(dataError));
        }, iter: 5000);
    }

    [Fact]
    public void HeaderStrictness()
    {
        var echo = new EchoRequest(1) { TunnelId = 5 }.ToArray();
        void Expect(WireError expected, int offset, byte value)
        {
            var b = (byte[])echo.Clone();
            b[offset] = value;
            Assert.Equal(expected, AccessMessage.TryParse(b, out _));
        }

        Expect(WireError.BadVersion, 0, 2);
        Expect(WireError.UnknownType, 1, 0x0A);
        Expect(WireError.UnknownType, 1, 0x00);
        Expect(WireError.UnknownFlags, 3, 1);
        Expect(WireError.BadValue, 7, 0); // tunnel id 0 on a tunnel message
        Assert.Equal(WireError.TrailingBytes, AccessMessage.TryParse([.. echo, 0], out _));

        var request = new AttachRequest(Examples.Identity, default).ToArray();
        request[7] = 1; // attach before accept carries tunnel id 0
        Assert.Equal(WireError.BadValue, AccessMessage.TryParse(request, out _));

        Assert.Equal(WireError.BadValue, new EchoRequest(1).TryWrite(new byte[20], out _));
        Assert.Equal(WireError.BadValue, new AttachRequest(Examples.Identity, default) { TunnelId = 1 }.TryWrite(new byte[100], out _));
    }

    [Fact]
    public void BodyStrictness()
    {
        var nai = new AttachRequest(new SubscriberIdentity(IdentityType.Nai, "a"), default).ToArray();
        var b = (byte[])nai.Clone();
        b[8] = 3;
        Assert.Equal(WireError.BadValue, AccessMessage.TryParse(b, out _)); // identity type
        b = (byte[])nai.Clone();
        b[10] = 0xff;
        Assert.Equal(WireError.BadText, AccessMessage.TryParse(b, out _)); // not UTF-8

        // The attach response's suite block is absent when empty: a block that lists no suites is a second encoding.
        var response = new AttachResponse(Examples.Identity, default, default, new byte[32]).ToArray();
        Assert.Equal(WireError.BadValue, AccessMessage.TryParse([.. response, 0, 0, 0, 0], out _));

        var accept = new AttachAccept(IPAddress.Parse("10.0.0.1"), new byte[32]) { TunnelId = 1 }.ToArray();
        accept[8] = 5;
        Assert.Equal(WireError.BadAddress, AccessMessage.TryParse(accept, out _));

        var reject = new AttachReject(default, KeyProxyReason.Overloaded, "busy").ToArray();
        reject[25] = 0x63;
        Assert.Equal(WireError.BadValue, AccessMessage.TryParse(reject, out _)); // undefined reason

        Assert.Equal(WireError.BadText, new AttachRequest(new SubscriberIdentity(IdentityType.Nai, ""), default).TryWrite(new byte[100], out _));
        Assert.Equal(WireError.LimitExceeded, new AttachRequest(new SubscriberIdentity(IdentityType.Msisdn, new string('1', 256)), default).TryWrite(new byte[400], out _));
        Assert.Equal(WireError.BadValue, new Detach(new byte[31]) { TunnelId = 1 }.TryWrite(new byte[100], out _));
        Assert.Equal(WireError.DestinationTooSmall, new EchoReply(1) { TunnelId = 1 }.TryWrite(new byte[11], out _));
    }

    [Fact]
    public void DataFastPath()
    {
        var handset = IpAddressValue.FromIPAddress(IPAddress.Parse("10.45.0.2"));
        var other = IpAddressValue.FromIPAddress(IPAddress.Parse("10.45.0.3"));
        var packet = new byte[29];
        UdpPacketWriter.TryWrite(packet, handset, 4500, other, 4500, [0xff], out _);

        var frame = new byte[8 + packet.Length];
        Assert.Equal(WireError.None, AccessData.TryWrite(frame, 77, packet, out int n));
        Assert.Equal(frame.Length, n);
        Assert.Equal(WireError.None, AccessData.TryRead(frame, out uint tunnel, out var inner));
        Assert.Equal(77u, tunnel);
        Assert.True(inner.SequenceEqual(packet));
        Assert.True(AccessData.SourceMatches(inner, handset));
        Assert.False(AccessData.SourceMatches(inner, other));

        Assert.Equal(WireError.Truncated, AccessData.TryRead(frame.AsSpan(0, 8), out _, out _));
        Assert.Equal(WireError.UnknownType, AccessData.TryRead(new EchoReply(1) { TunnelId = 1 }.ToArray(), out _, out _));
        Assert.Equal(WireError.BadValue, AccessData.TryWrite(frame, 0, packet, out _));
        frame[7] = 0;
        frame[6] = 0;
        Assert.Equal(WireError.BadValue, AccessData.TryRead(frame, out _, out _));
    }

    [Fact]
    public void DataPathDoesNotAllocate()
    {
        var handset = IpAddressValue.FromIPAddress(IPAddress.Parse("2001:db8::2"));
        var frame = new byte[8 + 48 + 100];
        UdpPacketWriter.TryWrite(frame.AsSpan(8), handset, 4500, IpAddressValue.FromIPAddress(IPAddress.Parse("2001:db8::9")), 4500, new byte[100], out int n);
        AccessData.WriteHeader(frame, 9);

        static int Classify(byte[] frame, IpAddressValue handset)
        {
            int ok = 0;
            if (AccessData.TryRead(frame, out _, out var inner) == WireError.None
                && AccessData.SourceMatches(inner, handset)
                && IpPacket.TryRead(inner, out var ip) == PacketError.None
                && UdpDatagram.TryRead(ip, out var udp) == PacketError.None)
            {
                var key = IpFiveTuple.Of(ip, udp);
                ok = key.GetHashCode() == 0 ? 2 : 1;
                ok += (int)Proxy.KeyProxyHeader.Classify(udp.Payload);
            }

            return ok;
        }

        // Rounds until the JIT settles (tiering allocates once on this thread); the last one is the steady state.
        long allocated = -1;
        int sum = 0;
        for (int round = 0; round < 3; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 1000; i++)
                sum += Classify(frame, handset);
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }
        Assert.Equal(0, allocated);
        Assert.True(sum >= 3000);
    }
}
