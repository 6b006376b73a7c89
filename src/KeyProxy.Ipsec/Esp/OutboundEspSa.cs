using System.Buffers.Binary;
using KeyProxy.Primitives;

namespace KeyProxy.Ipsec.Esp;

/// <summary>
/// The sending side of an ESP SA (RFC 4303 3.3): builds SPI | Seq | IV | encrypted (payload | padding | Pad Length |
/// Next Header) | ICV into a caller buffer. Allocates nothing per packet. The sequence counter starts at 1 and never
/// cycles (3.3.3): at 2^32-1 (2^64-1 with ESN) further calls return <see cref="EspStatus.SequenceNumberExhausted"/>.
/// </summary>
public sealed class OutboundEspSa : EspSa
{
    private ulong _lastSequenceNumber;

    public OutboundEspSa(EspSaParameters parameters, DateTimeOffset now)
        : base(parameters, now)
    {
    }

    /// <summary>Sequence number of the last packet sent (0 before the first).</summary>
    public ulong LastSequenceNumber
    {
        get
        {
            lock (Gate)
            {
                return _lastSequenceNumber;
            }
        }
    }

    /// <summary>Largest sequence number this SA may send.</summary>
    public ulong MaxSequenceNumber => Esn ? ulong.MaxValue : uint.MaxValue;

    /// <summary>Bytes of the ESP packet for a payload of <paramref name="payloadLength"/> bytes (RFC 4303 2.4 padding included).</summary>
    public int GetEncryptedLength(int payloadLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(payloadLength);
        return EspPacket.HeaderLength + IvLength + PaddedLength(payloadLength) + IcvLength;
    }

    /// <summary>Tunnel mode: encrypts an IPv4 or IPv6 packet (Next Header 4 or 41 from its version nibble).</summary>
    public EspEncryptResult Encrypt(ReadOnlySpan<byte> innerPacket, Span<byte> destination, DateTimeOffset now)
    {
        var nextHeader = EspPacket.TunnelNextHeader(innerPacket);
        if (nextHeader == 0 || Mode != ChildSaMode.Tunnel)
        {
            return new EspEncryptResult(EspStatus.InvalidPayload, 0, 0, LifetimeEvents.None);
        }

        return Encrypt(innerPacket, nextHeader, destination, now);
    }

    /// <summary>
    /// Encrypts <paramref name="payload"/> with the given Next Header (transport mode: the upper-layer protocol;
    /// tunnel mode: 4 or 41; 59 for a dummy packet) into <paramref name="destination"/>, which must not overlap it.
    /// </summary>
    public EspEncryptResult Encrypt(ReadOnlySpan<byte> payload, byte nextHeader, Span<byte> destination, DateTimeOffset now)
    {
        lock (Gate)
        {
            if (Disposed)
            {
                return new EspEncryptResult(EspStatus.Expired, 0, 0, LifetimeEvents.None);
            }

            var events = CheckTime(now);
            if (IsExpired)
            {
                Counters.Drop(DropReason.Expired);
                return new EspEncryptResult(EspStatus.Expired, 0, 0, events);
            }

            if (_lastSequenceNumber >= MaxSequenceNumber)
            {
                Counters.Drop(DropReason.Expired);
                return new EspEncryptResult(EspStatus.SequenceNumberExhausted, 0, 0, events);
            }

            var padded = PaddedLength(payload.Length);
            var total = EspPacket.HeaderLength + IvLength + padded + IcvLength;
            if (destination.Length < total)
            {
                return new EspEncryptResult(EspStatus.DestinationTooSmall, total, 0, events);
            }

            var sequenceNumber = ++_lastSequenceNumber;
            var packet = destination[..total];
            BinaryPrimitives.WriteUInt32BigEndian(packet, Spi);
            BinaryPrimitives.WriteUInt32BigEndian(packet[4..], (uint)sequenceNumber);
            var body = packet.Slice(EspPacket.HeaderLength + IvLength, padded);
            payload.CopyTo(body);
            var padLength = padded - payload.Length - EspPacket.TrailerLength;
            for (var i = 0; i < padLength; i++)
            {
                body[payload.Length + i] = (byte)(i + 1);
            }

            body[^2] = (byte)padLength;
            body[^1] = nextHeader;
            Transform.Seal(packet, sequenceNumber, Esn);
            events |= Account(payload.Length);
            return new EspEncryptResult(EspStatus.Ok, total, sequenceNumber, events);
        }
    }

    /// <summary>For tests and resumption: the next packet is sent with <paramref name="lastSent"/> + 1.</summary>
    internal void SetLastSequenceNumber(ulong lastSent)
    {
        lock (Gate)
        {
            _lastSequenceNumber = lastSent;
        }
    }

    /// <summary>Payload plus the minimal RFC 4303 2.4 padding and the 2-byte trailer, to the block alignment.</summary>
    private int PaddedLength(int payloadLength)
    {
        var alignment = BlockAlignment;
        var unpadded = payloadLength + EspPacket.TrailerLength;
        return (unpadded + alignment - 1) / alignment * alignment;
    }
}
