using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using KeyProxy.Ike.Protocol;
using KeyProxy.Ipsec.Esp;
using KeyProxy.Wire.Ip;

namespace KeyProxy.Load.Peers;

/// <summary>
/// A load peer's ESP: the CHILD_SAs its IKE sessions established, by inbound SPI, and a UDP echo over them.
/// An ESP-in-UDP packet (RFC 3948) is decrypted with its inbound SA (RFC 4303 3.4); a tunnel-mode inner
/// UDP packet comes back with addresses and ports swapped, encrypted with the paired outbound SA, to where
/// the packet came from. Anything else is counted and dropped.
/// </summary>
public sealed class EspEcho : IDisposable
{
    private readonly ConcurrentDictionary<uint, EspSaPair> _byInbound = new();
    private long _echoed, _echoedBytes, _dropped;

    /// <summary>Packets echoed.</summary>
    public long Echoed => Interlocked.Read(ref _echoed);

    /// <summary>Inner (decrypted) bytes echoed.</summary>
    public long EchoedBytes => Interlocked.Read(ref _echoedBytes);

    /// <summary>ESP packets not echoed: unknown SPI, failed to decrypt (replay, integrity), not UDP inside.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>SA pairs held.</summary>
    public int Sas => _byInbound.Count;

    /// <summary>Installs the CHILD_SA's two ESP SAs (RFC 7296 2.17 keys, as the IKE engine derived them).</summary>
    public void Add(ChildSa child)
    {
        var pair = ChildSaEsp.Pair(child, DateTimeOffset.UtcNow);
        if (!_byInbound.TryAdd(child.InboundSpi, pair)) pair.Dispose();
    }

    /// <summary>The outbound SPI of the pair whose inbound SPI is <paramref name="inboundSpi"/>, when this peer holds it.</summary>
    public bool TryGetOutboundSpi(uint inboundSpi, out uint outboundSpi)
    {
        outboundSpi = _byInbound.TryGetValue(inboundSpi, out var pair) ? pair.Outbound.Spi : 0;
        return outboundSpi != 0;
    }

    /// <summary>The inbound SPIs of the pairs held now (a snapshot).</summary>
    public IReadOnlyCollection<uint> InboundSpis => [.. _byInbound.Keys];

    public void Remove(uint inboundSpi)
    {
        if (_byInbound.TryRemove(inboundSpi, out var pair)) pair.Dispose();
    }

    /// <summary>Echoes one ESP packet (the UDP payload, from the SPI on) back to <paramref name="from"/> over <paramref name="socket"/>.</summary>
    public void Echo(ReadOnlySpan<byte> esp, Socket socket, EndPoint from)
    {
        if (!EspPacket.TryReadSpi(esp, out uint spi) || !_byInbound.TryGetValue(spi, out var pair))
        {
            Interlocked.Increment(ref _dropped);
            return;
        }
        var now = DateTimeOffset.UtcNow;
        int innerLength = pair.Inbound.GetDecryptBufferLength(esp.Length);
        // Room for the reply: the inner packet as long as the request's, plus ESP overhead.
        byte[] inner = System.Buffers.ArrayPool<byte>.Shared.Rent(innerLength + 64);
        byte[] reply = System.Buffers.ArrayPool<byte>.Shared.Rent(pair.Outbound.GetEncryptedLength(innerLength + 64));
        try
        {
            var decrypted = pair.Inbound.Decrypt(esp, inner, now);
            if (!decrypted.IsOk || IpPacket.TryRead(inner.AsSpan(0, decrypted.BytesWritten), out var ip) != PacketError.None
                || UdpDatagram.TryRead(ip, out var udp, verifyChecksum: false) != PacketError.None)
            {
                Interlocked.Increment(ref _dropped);
                return;
            }
            // The swapped packet is written into the rented reply buffer's tail first, then encrypted to its head.
            var back = reply.AsSpan(reply.Length - (UdpPacketWriter.HeaderSize(ip.Family) + udp.Payload.Length));
            if (UdpPacketWriter.TryWrite(back, ip.Destination, udp.DestinationPort, ip.Source, udp.SourcePort, udp.Payload, out int backLength) != PacketError.None)
            {
                Interlocked.Increment(ref _dropped);
                return;
            }
            var packetBack = inner.AsSpan(0, backLength);
            back[..backLength].CopyTo(packetBack);
            var encrypted = pair.Outbound.Encrypt(packetBack, reply, now);
            if (!encrypted.IsOk)
            {
                Interlocked.Increment(ref _dropped);
                return;
            }
            socket.SendTo(reply.AsSpan(0, encrypted.BytesWritten), SocketFlags.None, from);
            Interlocked.Increment(ref _echoed);
            Interlocked.Add(ref _echoedBytes, backLength);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            Interlocked.Increment(ref _dropped);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(inner);
            System.Buffers.ArrayPool<byte>.Shared.Return(reply);
        }
    }

    public void Dispose()
    {
        foreach (var spi in _byInbound.Keys) Remove(spi);
    }
}
