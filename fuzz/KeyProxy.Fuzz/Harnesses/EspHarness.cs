using System.Buffers.Binary;
using KeyProxy.Fuzz.Support;
using KeyProxy.Ipsec.Esp;
using KeyProxy.Ipsec.Policy;
using KeyProxy.Ipsec.Udp;

namespace KeyProxy.Fuzz.Harnesses;

/// <summary>
/// <c>esp</c>: ESP decapsulation (RFC 4303 3.4) on a fresh fixed-key inbound SA, after the RFC 3948 classification.
/// <para>Input: one control byte, then the body.</para>
/// <list type="bullet">
/// <item>bit 0 clear, raw: the body is a UDP payload from port 4500; it is classified (keepalive, non-ESP-marked
/// IKE, ESP) and ESP is decrypted as received.</item>
/// <item>bit 0 set, sealed: body = count n (1..8) | n sequence numbers (4 bytes, 8 with ESN) | plaintext. The
/// plaintext (payload, padding and trailer, as the fuzzer wrote them; truncated to the block) is sealed under
/// each sequence number in turn and decrypted on the same SA, so mutations reach the replay window, the padding
/// and Next Header checks and the inner packet's policy check.</item>
/// <item>bit 1: AES-CBC with HMAC-SHA-256-128 (else AES-GCM-16). bit 2: ESN. bit 3: transport mode (else tunnel).</item>
/// </list>
/// </summary>
public static class EspHarness
{
    public const byte Sealed = 0x01;
    public const byte Cbc = 0x02;
    public const byte Esn = 0x04;
    public const byte Transport = 0x08;
    public const int MaxPackets = 8;

    public static void Run(ReadOnlySpan<byte> input)
    {
        // An empty input still builds the SA: see FuzzCommand on SharpFuzz's first run.
        var control = input.IsEmpty ? (byte)0 : input[0];
        var body = input.IsEmpty ? input : input[1..];
        var cbc = (control & Cbc) != 0;
        var esn = (control & Esn) != 0;
        using var sa = new InboundEspSa(EspSealer.Parameters(cbc, esn, (control & Transport) != 0), Support.FixedClock.Epoch);

        if ((control & Sealed) == 0)
        {
            switch (UdpEncapsulation.Classify(body))
            {
                case NatTPayloadKind.Esp:
                    Decrypt(sa, body);
                    break;
                case NatTPayloadKind.Ike:
                    Ike.Messages.IkeCodec.TryDecode(UdpEncapsulation.IkeMessage(body).ToArray(), out _, out _);
                    break;
            }
            return;
        }

        if (body.IsEmpty)
            return;
        var count = Math.Clamp((int)body[0], 1, MaxPackets);
        var width = esn ? 8 : 4;
        if (body.Length < 1 + count * width)
            return;
        var plaintext = body[(1 + count * width)..];
        plaintext = plaintext[..(plaintext.Length / EspSealer.BlockAlignment(cbc) * EspSealer.BlockAlignment(cbc))];
        for (var i = 0; i < count; i++)
        {
            var field = body.Slice(1 + i * width, width);
            var sequenceNumber = esn ? BinaryPrimitives.ReadUInt64BigEndian(field) : BinaryPrimitives.ReadUInt32BigEndian(field);
            Decrypt(sa, EspSealer.Seal(cbc, esn, sequenceNumber, plaintext));
        }
    }

    private static void Decrypt(InboundEspSa sa, ReadOnlySpan<byte> packet)
    {
        var destination = new byte[sa.GetDecryptBufferLength(packet.Length)];
        var result = sa.Decrypt(packet, destination, Support.FixedClock.Epoch);
        if (Trace.Enabled)
            Trace.Write($"esp: {result.Status} seq {result.SequenceNumber}");
        if (result.IsOk && sa.Mode == Primitives.ChildSaMode.Tunnel && PacketSelector.TryRead(destination.AsSpan(0, result.BytesWritten), out var selector))
            sa.Covers(selector, localIsSource: false);
    }
}
