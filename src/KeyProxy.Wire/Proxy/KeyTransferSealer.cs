using System.Buffers.Binary;
using System.Security.Cryptography;
using KeyProxy.Primitives;

namespace KeyProxy.Wire.Proxy;

/// <summary>
/// Seals key transfers under one 32-byte delivery key with AES-256-GCM (docs/wire.md, "Key transfer").
/// The caller owns the counter (strictly increasing per delivery key); the 12-byte nonce is drawn from the
/// random source. Not thread-safe (one instance per caller, or lock around it).
/// </summary>
public sealed class KeyTransferSealer : IDisposable
{
    readonly AesGcm _aes;
    readonly IRandomSource _random;

    public KeyTransferSealer(ReadOnlySpan<byte> deliveryKey, IRandomSource? random = null)
    {
        if (deliveryKey.Length != KeyTransfer.KeySize)
            throw new ArgumentException("the delivery key is 32 bytes", nameof(deliveryKey));
        _aes = new AesGcm(deliveryKey, KeyTransfer.TagSize);
        _random = random ?? SecureRandomSource.Instance;
    }

    /// <summary>Length of the sealed message for <paramref name="content"/> (which must validate).</summary>
    public static int GetSealedLength(KeyTransferContent content) => KeyTransfer.SealedLength(content.GetEncodedLength());

    /// <summary>Seals <paramref name="content"/> with <paramref name="counter"/> into <paramref name="destination"/>.</summary>
    public WireError TrySeal(ulong counter, KeyTransferContent content, Span<byte> destination, out int written)
    {
        written = 0;
        var error = content.Validate();
        if (error != WireError.None)
            return error;
        int plaintextLength = content.GetEncodedLength();
        if (plaintextLength > KeyTransfer.MaxPlaintext)
            return WireError.LimitExceeded;
        int length = KeyTransfer.SealedLength(plaintextLength);
        if (destination.Length < length)
            return WireError.DestinationTooSmall;

        KeyProxyHeader.Write(destination, KeyProxyHeader.KeyTransferPayload, KeyProxyHeader.KeyTransferExchange, KeyProxyHeader.ResponseFlag,
            (uint)counter, length);
        BinaryPrimitives.WriteUInt64BigEndian(destination[KeyProxyHeader.Size..], counter);
        var nonce = destination.Slice(KeyProxyHeader.Size + KeyTransfer.CounterSize, KeyTransfer.NonceSize);
        _random.Fill(nonce);
        var text = destination.Slice(KeyProxyHeader.Size + KeyTransfer.CounterSize + KeyTransfer.NonceSize, plaintextLength);
        var tag = destination.Slice(text.Length + KeyProxyHeader.Size + KeyTransfer.CounterSize + KeyTransfer.NonceSize, KeyTransfer.TagSize);

        // The plaintext is written where the ciphertext goes and encrypted in place, so key bytes are never copied elsewhere.
        content.TryWrite(text, out _);
        _aes.Encrypt(nonce, text, text, tag, destination[..KeyTransfer.AadSize]);
        written = length;
        return WireError.None;
    }

    /// <summary>The sealed message; throws <see cref="InvalidOperationException"/> if the content cannot be encoded.</summary>
    public byte[] Seal(ulong counter, KeyTransferContent content)
    {
        var error = content.Validate();
        if (error != WireError.None)
            throw new InvalidOperationException($"key transfer content cannot be encoded: {error}");
        var bytes = new byte[GetSealedLength(content)];
        error = TrySeal(counter, content, bytes, out _);
        return error == WireError.None ? bytes : throw new InvalidOperationException($"key transfer cannot be sealed: {error}");
    }

    public void Dispose() => _aes.Dispose();

    public override string ToString() => "KeyTransferSealer([redacted])";
}
