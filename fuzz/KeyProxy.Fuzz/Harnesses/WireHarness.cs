using KeyProxy.Fuzz.Support;
using KeyProxy.Wire;
using KeyProxy.Wire.Access;
using KeyProxy.Wire.Ip;
using KeyProxy.Wire.Proxy;

namespace KeyProxy.Fuzz.Harnesses;

/// <summary>
/// <c>wire</c>: every decoder of src/KeyProxy.Wire (docs/wire.md). The first byte picks the decoder (modulo
/// <see cref="Decoder"/>'s count), the rest is its input. Messages a decoder accepts must encode back to the
/// same bytes (the formats are strict: one encoding per message).
/// </summary>
public static class WireHarness
{
    public enum Decoder : byte
    {
        /// <summary>IPv4/IPv6 header, then the UDP header with its checksum (docs/wire.md, IP and UDP).</summary>
        IpUdp = 0,
        /// <summary>Key exchange proxy request, the whole UDP payload (exchange 240).</summary>
        ProxyRequest = 1,
        /// <summary>Key transfer opened with <see cref="DeliveryKey"/> (exchange 241).</summary>
        KeyTransferOpen = 2,
        /// <summary>The decrypted key transfer content (SA install, SA delete, proxy failure).</summary>
        KeyTransferContent = 3,
        /// <summary>An access-link control message (attach, challenge, response, accept, reject, detach, echo, refusal).</summary>
        AccessMessage = 4,
        /// <summary>The access header and the data framing (tunnel id + inner packet).</summary>
        AccessData = 5,
        /// <summary>The KeyProxy header classification and the key transfer counter peek.</summary>
        KeyProxyHeader = 6,
    }

    public const int DecoderCount = 7;

    /// <summary>A fixed delivery key (fuzzing only).</summary>
    public static readonly byte[] DeliveryKey = Enumerable.Range(0xA0, KeyTransfer.KeySize).Select(i => (byte)i).ToArray();

    public static void Run(ReadOnlySpan<byte> input)
    {
        // An empty input still reaches a decoder: see FuzzCommand on SharpFuzz's first run.
        var data = input.IsEmpty ? input : input[1..];
        switch ((Decoder)(input.IsEmpty ? 0 : input[0] % DecoderCount))
        {
            case Decoder.IpUdp:
                if (IpPacket.TryRead(data, out var ip) == PacketError.None && ip.Protocol == IpPacket.Udp)
                {
                    UdpDatagram.TryRead(ip, out _);
                    UdpDatagram.TryRead(ip, out _, verifyChecksum: false);
                }
                break;
            case Decoder.ProxyRequest:
                if (ProxyRequest.TryParse(data, out var request) == WireError.None)
                    RoundTrip.Check(nameof(ProxyRequest), data, request!.TryWrite);
                break;
            case Decoder.KeyTransferOpen:
                using (var opener = new KeyTransferOpener(DeliveryKey))
                {
                    opener.Open(data);
                    opener.Open(data); // the second time through the replay guard
                }
                break;
            case Decoder.KeyTransferContent:
                if (KeyTransferContent.TryParse(data, out var content) == WireError.None)
                    RoundTrip.Check(nameof(KeyTransferContent), data, content!.TryWrite);
                break;
            case Decoder.AccessMessage:
                if (AccessMessage.TryParse(data, out var message) == WireError.None)
                    RoundTrip.Check(nameof(AccessMessage), data, message!.TryWrite);
                break;
            case Decoder.AccessData:
                AccessHeader.TryRead(data, out _);
                if (Wire.Access.AccessData.TryRead(data, out var tunnelId, out _) == WireError.None)
                {
                    var inner = data[Wire.Access.AccessData.HeaderSize..].ToArray();
                    RoundTrip.Check(nameof(Wire.Access.AccessData), data, (Span<byte> destination, out int written) =>
                        Wire.Access.AccessData.TryWrite(destination, tunnelId, inner, out written));
                }
                break;
            case Decoder.KeyProxyHeader:
                Wire.Proxy.KeyProxyHeader.Classify(data);
                KeyTransfer.TryReadCounter(data, out _);
                break;
        }
    }
}
