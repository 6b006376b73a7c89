using System.Buffers.Binary;
using KeyProxy.Ike.Messages;
using KeyProxy.Ipsec.Udp;
using KeyProxy.Wire.Access;
using KeyProxy.Wire.Ip;
using KeyProxy.Wire.Proxy;

namespace KeyProxy.Edge.Classification;

/// <summary>
/// The edge's per-packet decision, in the seed's order: S21 key exchange proxy request, S22 IKE
/// for a proxied handset, S23 key transfer, S24 everything else routed. Reads spans only; no
/// allocation, no grain call.
/// </summary>
public static class EdgeClassifier
{
    /// <summary>IKE_SA_INIT (RFC 7296 3.1).</summary>
    private const byte IkeSaInit = 34;

    /// <summary>
    /// An inner packet a handset sent through its tunnel. For UDP, <paramref name="info"/> carries the
    /// destination, ports and payload offset the caller routes with.
    /// </summary>
    public static AccessPacketKind ClassifyAccess(ReadOnlySpan<byte> packet, in IpAddressValue handset, out AccessPacketInfo info)
    {
        info = default;
        if (!AccessData.SourceMatches(packet, handset))
            return IpPacket.TryRead(packet, out _) == PacketError.None ? AccessPacketKind.Spoofed : AccessPacketKind.Malformed;
        var error = IpPacket.TryRead(packet, out var ip);
        if (error == PacketError.Fragment || error == PacketError.ExtensionHeader)
            return AccessPacketKind.Route; // not ours to reassemble; a proxy request is never fragmented
        if (error != PacketError.None)
            return AccessPacketKind.Malformed;
        if (ip.Protocol != IpPacket.Udp)
            return AccessPacketKind.Route;
        if (UdpDatagram.TryRead(ip, out var udp) != PacketError.None)
            return AccessPacketKind.Malformed;
        info = new AccessPacketInfo(true, ip.Destination, udp.SourcePort, udp.DestinationPort, packet.Length - udp.Payload.Length);
        return KeyProxyHeader.Classify(udp.Payload) switch
        {
            KeyProxyMessageKind.ProxyRequest => AccessPacketKind.ProxyRequest,
            KeyProxyMessageKind.KeyTransfer => AccessPacketKind.KeyTransfer,
            _ => AccessPacketKind.Route,
        };
    }

    /// <summary>
    /// A datagram received on a handset's network-side IKE socket (<paramref name="natTraversalPort"/>
    /// false) or NAT-T socket (true). On IKE kinds, <paramref name="ikeOffset"/> is where the IKE
    /// message starts (after a non-ESP marker) and the SPIs are read from its header.
    /// </summary>
    public static NetworkPacketKind ClassifyNetwork(ReadOnlySpan<byte> payload, bool natTraversalPort, out int ikeOffset, out ulong initiatorSpi, out ulong responderSpi)
    {
        ikeOffset = 0;
        initiatorSpi = responderSpi = 0;
        // KeyProxy's own messages first: their reserved SPI 100 begins with four zero bytes, which
        // would otherwise pass for a non-ESP marker.
        switch (KeyProxyHeader.Classify(payload))
        {
            case KeyProxyMessageKind.ProxyRequest: return NetworkPacketKind.ProxyRequest;
            case KeyProxyMessageKind.KeyTransfer: return NetworkPacketKind.KeyTransfer;
        }
        if (natTraversalPort)
        {
            switch (UdpEncapsulation.Classify(payload))
            {
                case NatTPayloadKind.NatKeepalive: return NetworkPacketKind.NatKeepalive;
                case NatTPayloadKind.Esp: return NetworkPacketKind.Esp;
                case NatTPayloadKind.Ike: ikeOffset = NonEspMarker.Length; break;
                default: return NetworkPacketKind.Malformed;
            }
        }
        else if (payload.Length >= NonEspMarker.Length + IkeHeader.Size && BinaryPrimitives.ReadUInt32BigEndian(payload) == 0
                 && (IsIkeHeaderOf(payload[NonEspMarker.Length..]) || !IsIkeHeaderOf(payload)))
        {
            // A peer off port 500 marks IKE on every port (strongSwan does, RFC 3948 generalised). An initiator
            // SPI may start with four zero bytes too: the header whose version and length (RFC 7296 3.1) fit the
            // datagram decides. (The version nibble alone does not: after a marker it is a byte of the responder
            // SPI, 2 in one datagram of 16.)
            ikeOffset = NonEspMarker.Length;
        }

        var ike = payload[ikeOffset..];
        switch (KeyProxyHeader.Classify(ike))
        {
            case KeyProxyMessageKind.ProxyRequest: return NetworkPacketKind.ProxyRequest;
            case KeyProxyMessageKind.KeyTransfer: return NetworkPacketKind.KeyTransfer;
        }
        if (ike.Length < IkeHeader.Size || ike[17] >> 4 != 2)
            return NetworkPacketKind.Malformed;
        initiatorSpi = BinaryPrimitives.ReadUInt64BigEndian(ike);
        responderSpi = BinaryPrimitives.ReadUInt64BigEndian(ike[8..]);
        if (initiatorSpi == 0)
            return NetworkPacketKind.Malformed;
        var flags = (IkeFlags)ike[19];
        return ike[IkeHeader.ExchangeTypeOffset] == IkeSaInit && responderSpi == 0 && (flags & IkeFlags.Initiator) != 0 && (flags & IkeFlags.Response) == 0
            ? NetworkPacketKind.IkeSaInitRequest
            : NetworkPacketKind.Ike;
    }

    /// <summary>ESP's IP protocol number (RFC 4303 2).</summary>
    public const byte EspProtocol = 50;

    /// <summary>
    /// A whole IPv4 or IPv6 packet that arrived for a pool address (the TUN packet path): UDP to the handset's IKE port
    /// or NAT-T port is classified as on a handset's socket (<see cref="ClassifyNetwork"/>, the non-ESP marker included),
    /// IP protocol 50 is plain ESP (RFC 4303; its SPI must be one a peer may send, 256 and up: RFC 4303 2.1), and
    /// everything else is <see cref="NetworkPacketKind.OtherTraffic"/>. The UDP checksum is verified (no socket did it).
    /// Reads the span only; no allocation.
    /// </summary>
    public static NetworkPacketKind ClassifyPoolPacket(ReadOnlySpan<byte> packet, ushort ikePort, ushort natTPort, out PoolPacketInfo info)
    {
        info = default;
        var error = IpPacket.TryRead(packet, out var ip);
        if (error == PacketError.Fragment)
            return NetworkPacketKind.Fragment;
        if (error == PacketError.ExtensionHeader)
            return NetworkPacketKind.OtherTraffic; // IPv6 extension headers are not walked: nothing of ours carries them
        if (error != PacketError.None)
            return NetworkPacketKind.Malformed;
        if (ip.Protocol == EspProtocol)
        {
            var esp = ip.Payload;
            // SPI and Sequence Number, then at least one byte (RFC 4303 2).
            if (esp.Length <= 8 || BinaryPrimitives.ReadUInt32BigEndian(esp) < 256)
                return NetworkPacketKind.Malformed;
            info = new PoolPacketInfo(ip.Destination, ip.Source, 0, 0, false, ip.HeaderLength, 0, 0, 0);
            return NetworkPacketKind.PlainEsp;
        }
        if (ip.Protocol != IpPacket.Udp)
            return NetworkPacketKind.OtherTraffic;
        if (UdpDatagram.TryRead(ip, out var udp) != PacketError.None)
            return NetworkPacketKind.Malformed;
        bool natTraversal = udp.DestinationPort == natTPort;
        if (!natTraversal && udp.DestinationPort != ikePort)
            return NetworkPacketKind.OtherTraffic;
        int payloadOffset = ip.Packet.Length - udp.Payload.Length;
        var kind = ClassifyNetwork(udp.Payload, natTraversal, out int ikeOffset, out ulong initiatorSpi, out ulong responderSpi);
        info = new PoolPacketInfo(ip.Destination, ip.Source, udp.SourcePort, udp.DestinationPort, natTraversal, payloadOffset, ikeOffset, initiatorSpi, responderSpi);
        return kind;
    }

    /// <summary>An IKEv2 header (RFC 7296 3.1) whose Length field is exactly this datagram's length.</summary>
    private static bool IsIkeHeaderOf(ReadOnlySpan<byte> message) =>
        message.Length >= IkeHeader.Size && message[17] >> 4 == 2 && BinaryPrimitives.ReadUInt32BigEndian(message[24..]) == (uint)message.Length;
}
