using KeyProxy.Primitives;

namespace KeyProxy.Ipsec.Esp;

/// <summary>
/// The receiving side of an ESP SA (RFC 4303 3.4): replay check before the ICV, ICV verification, decryption,
/// window update only after the ICV verified, padding check (2.4), Next Header check for the mode. With ESN the
/// high 32 bits are inferred from the window (Appendix A2). Allocates nothing per authentic packet.
/// </summary>
public sealed class InboundEspSa : EspSa
{
    private readonly ReplayWindow _window;

    public InboundEspSa(EspSaParameters parameters, DateTimeOffset now)
        : base(parameters, now)
    {
        _window = new ReplayWindow(parameters.ReplayWindowSize);
    }

    /// <summary>Highest authenticated sequence number so far.</summary>
    public ulong HighestSequenceNumber
    {
        get
        {
            lock (Gate)
            {
                return _window.Highest;
            }
        }
    }

    public int ReplayWindowSize => _window.Size;

    /// <summary>
    /// Destination bytes <see cref="Decrypt"/> needs for a packet of <paramref name="packetLength"/> bytes: the
    /// ciphertext length (payload, padding and trailer are decrypted in place before the payload length is known).
    /// </summary>
    public int GetDecryptBufferLength(int packetLength) =>
        Math.Max(0, packetLength - EspPacket.HeaderLength - IvLength - IcvLength);

    /// <summary>
    /// Verifies and decrypts <paramref name="packet"/> (starting at the SPI: the UDP payload with RFC 3948, or the
    /// IP payload) into <paramref name="destination"/> (at least <see cref="GetDecryptBufferLength"/> bytes, not
    /// overlapping the packet). On success the payload is destination[..BytesWritten].
    /// </summary>
    public EspDecryptResult Decrypt(ReadOnlySpan<byte> packet, Span<byte> destination, DateTimeOffset now)
    {
        lock (Gate)
        {
            if (Disposed)
            {
                return new EspDecryptResult(EspStatus.Expired, 0, 0, 0, LifetimeEvents.None);
            }

            var events = CheckTime(now);
            if (IsExpired)
            {
                return Drop(EspStatus.Expired, DropReason.Expired, 0, events);
            }

            var cipherLength = packet.Length - EspPacket.HeaderLength - IvLength - IcvLength;
            if (cipherLength < EspPacket.TrailerLength || cipherLength % BlockAlignment != 0)
            {
                return Drop(EspStatus.Malformed, DropReason.Malformed, 0, events);
            }

            EspPacket.TryReadSpi(packet, out var spi);
            if (spi != Spi)
            {
                return Drop(EspStatus.NoSa, DropReason.NoSa, 0, events);
            }

            EspPacket.TryReadSequenceNumber(packet, out var low);
            var sequenceNumber = Esn ? _window.InferSequenceNumber(low) : low;
            if (_window.Check(sequenceNumber) != ReplayCheck.Ok)
            {
                return Drop(EspStatus.Replay, DropReason.Replay, sequenceNumber, events);
            }

            if (destination.Length < cipherLength)
            {
                return new EspDecryptResult(EspStatus.DestinationTooSmall, cipherLength, 0, sequenceNumber, events);
            }

            var plaintext = destination[..cipherLength];
            if (!Transform.Open(packet, sequenceNumber, Esn, plaintext))
            {
                return Drop(EspStatus.IntegrityFailure, DropReason.IntegrityFailure, sequenceNumber, events);
            }

            // Authentic: the number is used up whatever its content (RFC 4303 3.4.3).
            _window.Accept(sequenceNumber);
            var padLength = plaintext[^2];
            var nextHeader = plaintext[^1];
            var payloadLength = cipherLength - EspPacket.TrailerLength - padLength;
            if (payloadLength < 0 || !PaddingIsMonotonic(plaintext.Slice(payloadLength, padLength)))
            {
                plaintext.Clear();
                return Drop(EspStatus.BadPadding, DropReason.Malformed, sequenceNumber, events);
            }

            if (nextHeader == EspPacket.NextHeaderNone)
            {
                plaintext.Clear();
                return new EspDecryptResult(EspStatus.DummyPacket, 0, nextHeader, sequenceNumber, events);
            }

            if (Mode == ChildSaMode.Tunnel && !TunnelPayloadFits(nextHeader, plaintext[..payloadLength]))
            {
                plaintext.Clear();
                return Drop(EspStatus.Malformed, DropReason.Malformed, sequenceNumber, events);
            }

            events |= Account(payloadLength);
            return new EspDecryptResult(EspStatus.Ok, payloadLength, nextHeader, sequenceNumber, events);
        }
    }

    /// <summary>For tests and resumption: the window as if <paramref name="highest"/> had been the last packet received.</summary>
    internal void ResetWindow(ulong highest)
    {
        lock (Gate)
        {
            if (highest > 0)
            {
                _window.Accept(highest);
            }
        }
    }

    private EspDecryptResult Drop(EspStatus status, DropReason reason, ulong sequenceNumber, LifetimeEvents events)
    {
        Counters.Drop(reason);
        return new EspDecryptResult(status, 0, 0, sequenceNumber, events);
    }

    /// <summary>RFC 4303 2.4: padding bytes are 1, 2, 3, ...</summary>
    private static bool PaddingIsMonotonic(ReadOnlySpan<byte> padding)
    {
        for (var i = 0; i < padding.Length; i++)
        {
            if (padding[i] != (byte)(i + 1))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Tunnel mode carries a whole IP packet: Next Header 4 with an IPv4 version nibble, or 41 with IPv6.</summary>
    private static bool TunnelPayloadFits(byte nextHeader, ReadOnlySpan<byte> payload) =>
        nextHeader is EspPacket.NextHeaderIpv4 or EspPacket.NextHeaderIpv6
        && EspPacket.TunnelNextHeader(payload) == nextHeader;
}
