using KeyProxy.Ipsec.Esp;
using KeyProxy.Ipsec.Policy;
using KeyProxy.Ipsec.Udp;
using KeyProxy.Wire;
using KeyProxy.Wire.Access;
using KeyProxy.Wire.Ip;
using KeyProxy.Wire.Proxy;

namespace KeyProxy.Handset;

/// <summary>
/// The inbound path: a Data datagram from the edge holds an IP packet for this handset. UDP to
/// the encapsulation port is ESP (RFC 3948) to decrypt, so is IP protocol 50 (plain ESP, RFC 4303)
/// for an SA the network left unencapsulated; UDP to 500 with the reserved SPIs is a
/// key transfer, anything else must be allowed in the clear by the SPD. Other access messages
/// are control (attach, echo, refusals).
/// </summary>
public sealed partial class Handset
{
    /// <summary>
    /// Takes one datagram from the edge. On <see cref="HandsetPacketStatus.Ok"/> an IP packet for
    /// the application is in <c>delivered[..Length]</c> (<paramref name="delivered"/> must be at
    /// least as long as the datagram).
    /// </summary>
    public HandsetPacketResult Receive(ReadOnlySpan<byte> datagram, Span<byte> delivered)
    {
        var error = AccessData.TryRead(datagram, out uint tunnelId, out var packet);
        if (error == WireError.UnknownType)
        {
            HandleControl(datagram);
            return new HandsetPacketResult(HandsetPacketStatus.Control, 0);
        }
        if (error != WireError.None)
            return Drop(ref Counters.droppedMalformed, HandsetDropReason.Malformed);
        if (State != HandsetState.Attached || tunnelId != TunnelId)
            return Drop(ref Counters.droppedNotAttached, HandsetDropReason.NotAttached);
        _unansweredEchoes = 0; // the edge is there (no allocation: the echo timer keeps its schedule)
        if (IpPacket.TryRead(packet, out var ip) != PacketError.None)
            return Drop(ref Counters.droppedMalformed, HandsetDropReason.Malformed);
        if (ip.Destination != _address)
            return Drop(ref Counters.droppedNotForUs, HandsetDropReason.NotForUs);

        if (ip.Protocol == 17)
        {
            if (UdpDatagram.TryRead(ip, out var udp) != PacketError.None)
                return Drop(ref Counters.droppedMalformed, HandsetDropReason.Malformed);
            if (udp.DestinationPort == NatTPort || _byInbound.Count > 0 && IsEncapsulationPort(udp.DestinationPort))
            {
                switch (UdpEncapsulation.Classify(udp.Payload))
                {
                    case NatTPayloadKind.Esp:
                        return Decrypt(udp.Payload, encapsulated: true, delivered);
                    case NatTPayloadKind.NatKeepalive:
                        return new HandsetPacketResult(HandsetPacketStatus.Control, 0);
                    case NatTPayloadKind.Ike:
                        return Drop(ref Counters.droppedIke, HandsetDropReason.Ike); // the network runs IKE, not us
                }
            }
            else if (udp.DestinationPort == IkePort)
            {
                // The reserved SPIs mark KeyProxy's own messages: a key transfer, or a broken one the opener rejects and counts.
                if (KeyProxyHeader.Classify(udp.Payload) == KeyProxyMessageKind.KeyTransfer || HasReservedSpis(udp.Payload))
                {
                    HandleKeyTransfer(udp.Payload);
                    return new HandsetPacketResult(HandsetPacketStatus.Control, 0);
                }
                if (udp.SourcePort == IkePort)
                    return Drop(ref Counters.droppedIke, HandsetDropReason.Ike);
            }
        }
        else if (ip.Protocol == IpPacket.Esp)
        {
            return Decrypt(ip.Payload, encapsulated: false, delivered);
        }

        // In the clear: only what the SPD lets through (RFC 4301 5.2).
        if (!PacketSelector.TryRead(packet, out var selector))
            return Drop(ref Counters.droppedMalformed, HandsetDropReason.Malformed);
        var action = _spd.LookupInbound(selector)?.Action ?? PolicyAction.Discard;
        if (action != PolicyAction.Bypass)
            return Drop(ref Counters.droppedUnprotected, HandsetDropReason.Unprotected);
        if (delivered.Length < packet.Length)
            return HandsetPacketResult.Drop(HandsetDropReason.DestinationTooSmall);
        packet.CopyTo(delivered);
        Interlocked.Increment(ref Counters.delivered);
        return new HandsetPacketResult(HandsetPacketStatus.Ok, packet.Length);
    }

    private static bool HasReservedSpis(ReadOnlySpan<byte> payload) =>
        payload.Length >= 16
        && System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(payload) == KeyProxyHeader.ReservedSpi
        && System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(payload[8..]) == KeyProxyHeader.ReservedSpi;

    private bool IsEncapsulationPort(ushort port)
    {
        foreach (var sa in _byInbound.Values)
            if (sa.UdpEncapsulation && sa.HandsetPort == port) return true;
        return false;
    }

    /// <summary>
    /// ESP for an installed inbound SA, arriving as the SA was negotiated: in UDP (<paramref name="encapsulated"/>) or as IP
    /// protocol 50; the other way is counted as no SA (RFC 3948 applies to an SA as a whole).
    /// </summary>
    private HandsetPacketResult Decrypt(ReadOnlySpan<byte> esp, bool encapsulated, Span<byte> delivered)
    {
        if (!EspPacket.TryReadSpi(esp, out uint spi) || !_byInbound.TryGetValue(spi, out var sa) || sa.UdpEncapsulation != encapsulated)
            return Drop(ref Counters.droppedNoSa, HandsetDropReason.NoSa);
        if (delivered.Length < esp.Length)
            return HandsetPacketResult.Drop(HandsetDropReason.DestinationTooSmall);
        var result = sa.Pair.Inbound.Decrypt(esp, delivered, _clock.UtcNow);
        ReportLifetime(sa, result.Lifetime);
        if (result.Status != EspStatus.Ok)
            return Drop(ref Counters.droppedDecrypt, HandsetDropReason.Decrypt);
        // RFC 4301 5.2: the inner packet must match the SA's selectors (peer side is the source).
        if (!PacketSelector.TryRead(delivered[..result.BytesWritten], out var inner) || !sa.Pair.Inbound.Covers(inner, localIsSource: false))
            return Drop(ref Counters.droppedDecrypt, HandsetDropReason.Decrypt);
        if (sa.DrainsPredecessor != 0)
        {
            // Traffic moved to the rekeyed pair: the old inbound SA only waits for packets still in flight.
            if (_byInbound.TryGetValue(sa.DrainsPredecessor, out var old))
                old.RemoveAt = Min(old.RemoveAt, _clock.UtcNow + Config.RekeyDrainTime);
            sa.DrainsPredecessor = 0;
        }
        Interlocked.Increment(ref Counters.delivered);
        return new HandsetPacketResult(HandsetPacketStatus.Ok, result.BytesWritten);
    }
}
