using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using KeyProxy.Ike.Crypto;

namespace KeyProxy.Ike.Messages;

public static partial class IkeCodec
{
    /// <summary>
    /// Encodes a protected message (RFC 7296 3.14): the IKE header (Next Payload SK), one SK payload whose
    /// Next Payload is the first inner payload's type, and every payload of <see cref="IkeMessage.Payloads"/>
    /// sealed inside it. Header and SK header are written with their final lengths before
    /// <see cref="ISkCipher.Seal"/> runs, as the ICV/AAD covers them.
    /// </summary>
    public static byte[] EncodeProtected(IkeMessage message, ISkCipher cipher)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(cipher);
        var length = PayloadWriter.GetChainLength(message.Payloads);
        var rented = ArrayPool<byte>.Shared.Rent(length);
        var plaintext = rented.AsSpan(0, length);
        try
        {
            PayloadWriter.WriteChain(message.Payloads, plaintext);
            return Seal(message, cipher, plaintext, FirstType(message.Payloads), fragment: 0, totalFragments: 0);
        }
        finally
        {
            // The plaintext is zeroed before its buffer goes back to the pool.
            CryptographicOperations.ZeroMemory(plaintext);
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// RFC 7383 2.5: one SK datagram when it fits in <paramref name="maxDatagramSize"/> bytes, otherwise SKF
    /// fragments, each sealed on its own, all with the message's Message ID. Fragment 1's SKF Next Payload
    /// is the first inner payload's type, the others' is 0. <paramref name="maxDatagramSize"/> is the IKE
    /// message size (UDP payload minus the 4-byte non-ESP marker on port 4500). The inner payload bytes are
    /// split evenly. Throws <see cref="ArgumentOutOfRangeException"/> when not even one plaintext byte fits.
    /// </summary>
    public static IReadOnlyList<byte[]> EncodeProtectedFragments(IkeMessage message, ISkCipher cipher, int maxDatagramSize)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(cipher);
        var length = PayloadWriter.GetChainLength(message.Payloads);
        var rented = ArrayPool<byte>.Shared.Rent(length);
        var plaintext = rented.AsSpan(0, length);
        try
        {
            PayloadWriter.WriteChain(message.Payloads, plaintext);
            var first = FirstType(message.Payloads);
            if (IkeHeader.Size + EncryptedHeaderSize + cipher.GetSealedLength(plaintext.Length) <= maxDatagramSize)
                return [Seal(message, cipher, plaintext, first, fragment: 0, totalFragments: 0)];

            int room = maxDatagramSize - IkeHeader.Size - EncryptedFragmentHeaderSize;
            int maxChunk = room > 0 ? cipher.GetMaxPlaintextLength(room) : 0;
            if (maxChunk <= 0)
                throw new ArgumentOutOfRangeException(nameof(maxDatagramSize), maxDatagramSize, "too small for any fragment");

            int total = Math.Max(1, (plaintext.Length + maxChunk - 1) / maxChunk);
            if (total > ushort.MaxValue)
                throw new ArgumentOutOfRangeException(nameof(maxDatagramSize), maxDatagramSize, "more than 65535 fragments");
            int chunk = (plaintext.Length + total - 1) / total;

            var fragments = new byte[total][];
            for (int i = 0; i < total; i++)
            {
                int start = i * chunk;
                int fragmentLength = Math.Min(chunk, plaintext.Length - start);
                fragments[i] = Seal(message, cipher, plaintext.Slice(start, fragmentLength),
                    i == 0 ? first : PayloadType.None, (ushort)(i + 1), (ushort)total);
            }

            return fragments;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// IntAuth_*_A | IntAuth_*_P of an IKE_INTERMEDIATE message (RFC 9242 3.3.2): the IKE header and the Encrypted payload's
    /// generic header, then its inner payloads in clear; no IV, padding or ICV, and both lengths counting only what is
    /// here. A fragmented message counts as the one it was fragmented from (Next Payload SK, not SKF).
    /// <paramref name="message"/>'s payloads are the inner ones.
    /// </summary>
    public static byte[] EncodeIntermediateAuthData(IkeMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var inner = EncodePayloads(message.Payloads);
        var data = new byte[IkeHeader.Size + EncryptedHeaderSize + inner.Length];
        WriteHeader(data, message, PayloadType.Encrypted, data.Length);
        PayloadWriter.WriteGenericHeader(data.AsSpan(IkeHeader.Size), FirstType(message.Payloads), critical: false, EncryptedHeaderSize + inner.Length);
        inner.CopyTo(data, IkeHeader.Size + EncryptedHeaderSize);
        CryptographicOperations.ZeroMemory(inner);
        return data;
    }

    /// <summary>fragment == 0: SK payload; otherwise SKF fragment/totalFragments.</summary>
    static byte[] Seal(IkeMessage message, ISkCipher cipher, ReadOnlySpan<byte> plaintext, PayloadType firstInner,
        ushort fragment, ushort totalFragments)
    {
        int headerSize = fragment == 0 ? EncryptedHeaderSize : EncryptedFragmentHeaderSize;
        int sealedLength = cipher.GetSealedLength(plaintext.Length);
        int payloadLength = headerSize + sealedLength;
        if (payloadLength > ushort.MaxValue)
            throw new ArgumentException($"encrypted payload of {payloadLength} bytes exceeds 65535; fragment the message");

        var buffer = new byte[IkeHeader.Size + payloadLength];
        var span = buffer.AsSpan();
        WriteHeader(span, message, fragment == 0 ? PayloadType.Encrypted : PayloadType.EncryptedFragment, buffer.Length);
        PayloadWriter.WriteGenericHeader(span[IkeHeader.Size..], firstInner, critical: false, payloadLength);
        if (fragment != 0)
        {
            BinaryPrimitives.WriteUInt16BigEndian(span[(IkeHeader.Size + 4)..], fragment);
            BinaryPrimitives.WriteUInt16BigEndian(span[(IkeHeader.Size + 6)..], totalFragments);
        }

        cipher.Seal(span, IkeHeader.Size + headerSize, plaintext);
        return buffer;
    }

    static PayloadType FirstType(IReadOnlyList<IkePayload> payloads) => payloads.Count > 0 ? payloads[0].Type : PayloadType.None;

    /// <summary>
    /// Verifies and decrypts the SK payload of a received message (RFC 7296 3.14) and decodes the inner chain.
    /// <paramref name="inner"/> holds only the inner payloads (cleartext payloads before SK stay in
    /// <paramref name="received"/>.Payloads). Fails with <see cref="IkeParseErrorKind.IntegrityCheckFailed"/>
    /// when the cipher rejects the body (drop the message silently: nothing may answer an unauthenticated message), with
    /// <see cref="IkeParseErrorKind.Fragmented"/> for SKF messages. Error offsets of the inner chain are
    /// relative to the decrypted plaintext.
    /// </summary>
    public static bool TryOpen(IkeMessage received, ISkCipher cipher, [NotNullWhen(true)] out List<IkePayload>? inner, out IkeParseError error)
    {
        ArgumentNullException.ThrowIfNull(received);
        ArgumentNullException.ThrowIfNull(cipher);
        inner = null;
        var payloads = received.Payloads;
        var last = payloads.Count > 0 ? payloads[^1] : null;
        if (last is EncryptedFragmentPayload)
        {
            error = new(IkeParseErrorKind.Fragmented, 0, "SKF message: use IkeFragmentReassembler");
            return false;
        }

        if (last is not EncryptedPayload sk)
        {
            error = new(IkeParseErrorKind.NotProtected, 0, "no SK payload");
            return false;
        }

        if (!TryOpenBody(received.Raw.Span, sk.BodyOffset, cipher, out var plaintext))
        {
            error = new(IkeParseErrorKind.IntegrityCheckFailed, sk.BodyOffset, "SK payload did not verify");
            return false;
        }

        var list = new List<IkePayload>();
        if (!TryDecodePayloads(sk.FirstInnerPayload, plaintext, list, out error))
            return false;
        inner = list;
        return true;
    }

    /// <summary>As <see cref="TryOpen"/>, throwing <see cref="IkeParseException"/> on failure.</summary>
    public static List<IkePayload> Open(IkeMessage received, ISkCipher cipher) =>
        TryOpen(received, cipher, out var inner, out var error) ? inner : throw new IkeParseException(error);

    /// <summary>
    /// Calls <see cref="ISkCipher.Open"/> only when the body is at least as long as the sealing of an empty
    /// plaintext (IV + minimal padding + ICV), so ciphers never see impossible lengths.
    /// </summary>
    internal static byte[]? TryOpenBody(ReadOnlySpan<byte> message, int bodyOffset, ISkCipher cipher) =>
        CanOpen(message, bodyOffset, cipher) ? cipher.Open(message, bodyOffset) : null;

    /// <summary>As the other overload, the inner payloads as a slice of the decrypted buffer (<see cref="ISkCipher.TryOpen"/>).</summary>
    static bool TryOpenBody(ReadOnlySpan<byte> message, int bodyOffset, ISkCipher cipher, out ReadOnlyMemory<byte> plaintext)
    {
        plaintext = default;
        return CanOpen(message, bodyOffset, cipher) && cipher.TryOpen(message, bodyOffset, out plaintext);
    }

    static bool CanOpen(ReadOnlySpan<byte> message, int bodyOffset, ISkCipher cipher) =>
        bodyOffset >= IkeHeader.Size && bodyOffset <= message.Length && message.Length - bodyOffset >= cipher.GetSealedLength(0);
}
