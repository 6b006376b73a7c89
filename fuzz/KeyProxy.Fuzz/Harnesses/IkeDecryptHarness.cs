using System.Buffers.Binary;
using KeyProxy.Fuzz.Support;
using KeyProxy.Ike.Messages;
using KeyProxy.Ike.Protocol;

namespace KeyProxy.Fuzz.Harnesses;

/// <summary>
/// <c>ike-decrypt</c>: protected messages (SK, RFC 7296 3.14; SKF, RFC 7383 2.5) for an IKE SA with known keys.
/// Every input replays the deterministic handshake of <see cref="IkePair"/>, so its keys are always the same.
/// <para>Input: one control byte, then the body.</para>
/// <list type="bullet">
/// <item>bit 0 clear, raw: the body is the whole datagram (recorded real messages as seeds), which exercises the
/// header, SPI and message ID checks and ICV rejection.</item>
/// <item>bit 0 set, sealed: body = exchange type, first inner payload type, then the plaintext inner payload chain;
/// the harness writes a valid header and seals the chain with the SA's keys, so mutations reach the decoding of
/// the inner payloads and the exchange handlers after decryption.</item>
/// <item>bit 1: deliver to the initiator as a response to its outstanding request (else to the responder as the
/// peer's next request). bit 2: AES-CBC + HMAC suite (else AES-GCM). bit 3: received via the NAT-T port.</item>
/// <item>bits 4-6, the state: 0 during IKE_AUTH (message ID 1); 1-7 established, with the initiator's pending
/// request (ID 2) being 1 CREATE_CHILD_SA, 2 CHILD_SA rekey, 3 IKE SA rekey, 4 liveness, 5 CHILD_SA delete,
/// 6 IKE SA delete, 7 none.</item>
/// <item>bit 7 (sealed only): an SKF fragment; two more body bytes give Fragment Number and Total Fragments.</item>
/// </list>
/// </summary>
public static class IkeDecryptHarness
{
    public const byte Sealed = 0x01;
    public const byte ToInitiator = 0x02;
    public const byte CbcSuite = 0x04;
    public const byte ViaNatTraversal = 0x08;
    public const byte Fragment = 0x80;

    /// <summary>The initiator's request in flight for each state (bits 4-6).</summary>
    public enum PendingRequest
    {
        IkeAuth = 0,
        CreateChildSa = 1,
        RekeyChildSa = 2,
        RekeyIkeSa = 3,
        Liveness = 4,
        DeleteChildSa = 5,
        DeleteIkeSa = 6,
        None = 7,
    }

    public static void Run(ReadOnlySpan<byte> input)
    {
        // An empty input still runs the handshake: see FuzzCommand on SharpFuzz's first run.
        var control = input.IsEmpty ? (byte)0 : input[0];
        var body = input.IsEmpty ? input : input[1..];
        var pending = (PendingRequest)((control >> 4) & 7);
        var pair = Prepare(control, pending, out _);
        var toInitiator = (control & ToInitiator) != 0;
        var target = toInitiator ? pair.Initiator : pair.Responder;

        byte[]? datagram;
        if ((control & Sealed) == 0)
            datagram = body.ToArray();
        else
            datagram = Seal(pair, body, toInitiator, messageId: pending == PendingRequest.IkeAuth ? 1u : 2u, fragment: (control & Fragment) != 0);
        if (datagram is null)
            return;

        var before = pair.Events.Count;
        target.HandleDatagram(datagram, (control & ViaNatTraversal) != 0);
        var replies = pair.Drain(target);
        pair.Drain(toInitiator ? pair.Responder : pair.Initiator);
        if (Trace.Enabled)
            Trace.Write($"ike-decrypt control={control:x2}: {replies.Count} replies, events [{string.Join(", ", pair.Events.Skip(before))}]");
    }

    /// <summary>
    /// The pair in the state the control byte names; <paramref name="request"/> is the initiator's pending request
    /// (not delivered), when there is one.
    /// </summary>
    public static IkePair Prepare(byte control, PendingRequest pending, out byte[]? request)
    {
        var cbc = (control & CbcSuite) != 0;
        var suite = cbc ? IkePair.Cbc : IkePair.Gcm;
        var esp = cbc ? IkePair.EspCbc : IkePair.EspGcm;
        var pair = pending == PendingRequest.IkeAuth ? IkePair.BeginAuth(suite, esp) : IkePair.Establish(suite, esp);
        var initiator = pair.Initiator;
        switch (pending)
        {
            case PendingRequest.CreateChildSa: initiator.CreateChildSa(); break;
            case PendingRequest.RekeyChildSa: initiator.RekeyChildSa(initiator.ChildSas[0].InboundSpi); break;
            case PendingRequest.RekeyIkeSa: initiator.RekeyIkeSa(); break;
            case PendingRequest.Liveness: initiator.CheckLiveness(); break;
            case PendingRequest.DeleteChildSa: initiator.DeleteChildSa(initiator.ChildSas[0].InboundSpi); break;
            case PendingRequest.DeleteIkeSa: initiator.Delete(); break;
        }
        var sent = pair.Drain(initiator);
        request = sent.Count > 0 ? sent[0] : null;
        return pair;
    }

    /// <summary>
    /// A datagram from body = exchange type | first inner payload type | [fragment number | total] | plaintext,
    /// sealed with the keys of the direction it travels in.
    /// </summary>
    public static byte[]? Seal(IkePair pair, ReadOnlySpan<byte> body, bool toInitiator, uint messageId, bool fragment)
    {
        var headerLength = fragment ? IkeCodec.EncryptedFragmentHeaderSize : IkeCodec.EncryptedHeaderSize;
        var fields = fragment ? 4 : 2;
        if (body.Length < fields || pair.Keys is null)
            return null;
        var plaintext = body[fields..];
        var cipher = pair.Keys.CreateCipher(initiatorToResponder: !toInitiator);
        var bodyOffset = IkeHeader.Size + headerLength;
        var datagram = new byte[bodyOffset + cipher.GetSealedLength(plaintext.Length)];
        var span = datagram.AsSpan();
        BinaryPrimitives.WriteUInt64BigEndian(span, pair.Initiator.InitiatorSpi);
        BinaryPrimitives.WriteUInt64BigEndian(span[8..], pair.Initiator.ResponderSpi);
        span[16] = (byte)(fragment ? PayloadType.EncryptedFragment : PayloadType.Encrypted);
        span[17] = IkeHeader.Version2;
        span[18] = body[0];
        span[19] = (byte)(toInitiator ? IkeFlags.Response : IkeFlags.Initiator);
        BinaryPrimitives.WriteUInt32BigEndian(span[20..], messageId);
        BinaryPrimitives.WriteUInt32BigEndian(span[24..], (uint)datagram.Length);
        span[28] = body[1];
        BinaryPrimitives.WriteUInt16BigEndian(span[30..], (ushort)(datagram.Length - IkeHeader.Size));
        if (fragment)
        {
            BinaryPrimitives.WriteUInt16BigEndian(span[32..], body[2]);
            BinaryPrimitives.WriteUInt16BigEndian(span[34..], body[3]);
        }
        cipher.Seal(span, bodyOffset, plaintext);
        (cipher as IDisposable)?.Dispose();
        return datagram;
    }
}
