using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;

namespace KeyProxy.Wire.Proxy;

/// <summary>
/// The handset's side of key transfers for one delivery key: checks the headers, opens AES-256-GCM, then asks the
/// <see cref="KeyTransferReplayGuard"/> about the counter (only authentic counters reach it). Counts every outcome.
/// </summary>
public sealed class KeyTransferOpener : IDisposable
{
    readonly AesGcm _aes;
    long _malformed;
    long _authenticationFailed;

    public KeyTransferOpener(ReadOnlySpan<byte> deliveryKey, KeyTransferReplayGuard? guard = null)
    {
        if (deliveryKey.Length != KeyTransfer.KeySize)
            throw new ArgumentException("the delivery key is 32 bytes", nameof(deliveryKey));
        _aes = new AesGcm(deliveryKey, KeyTransfer.TagSize);
        Guard = guard ?? new KeyTransferReplayGuard();
    }

    public KeyTransferReplayGuard Guard { get; }

    public long Malformed => Interlocked.Read(ref _malformed);

    public long AuthenticationFailed => Interlocked.Read(ref _authenticationFailed);

    /// <summary>Opens one key transfer (the whole UDP payload). Never throws for any input.</summary>
    public KeyTransferOpenResult Open(ReadOnlySpan<byte> message)
    {
        var error = KeyProxyHeader.TryRead(message, KeyProxyHeader.KeyTransferPayload, KeyProxyHeader.KeyTransferExchange,
            KeyProxyHeader.ResponseFlag, out uint messageId, out var body);
        if (error == WireError.None && body.Length < KeyTransfer.CounterSize + KeyTransfer.NonceSize + KeyTransfer.TagSize)
            error = WireError.Truncated;
        if (error != WireError.None)
            return Fail(KeyTransferStatus.Malformed, 0, error);

        ulong counter = BinaryPrimitives.ReadUInt64BigEndian(body);
        if (messageId != (uint)counter)
            return Fail(KeyTransferStatus.Malformed, 0, WireError.BadHeader);

        var nonce = body.Slice(KeyTransfer.CounterSize, KeyTransfer.NonceSize);
        var ciphertext = body[(KeyTransfer.CounterSize + KeyTransfer.NonceSize)..^KeyTransfer.TagSize];
        var tag = body[^KeyTransfer.TagSize..];
        var rented = ArrayPool<byte>.Shared.Rent(Math.Max(1, ciphertext.Length));
        var plaintext = rented.AsSpan(0, ciphertext.Length);
        try
        {
            try
            {
                _aes.Decrypt(nonce, ciphertext, tag, plaintext, message[..KeyTransfer.AadSize]);
            }
            catch (AuthenticationTagMismatchException)
            {
                Interlocked.Increment(ref _authenticationFailed);
                return new KeyTransferOpenResult(KeyTransferStatus.AuthenticationFailed, 0, null, WireError.None);
            }

            error = KeyTransferContent.TryParse(plaintext, out var content);
            if (error != WireError.None)
                return Fail(KeyTransferStatus.Malformed, counter, error);
            if (!Guard.TryAccept(counter))
                return new KeyTransferOpenResult(KeyTransferStatus.Replayed, counter, null, WireError.None);
            return new KeyTransferOpenResult(KeyTransferStatus.Ok, counter, content, WireError.None);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    KeyTransferOpenResult Fail(KeyTransferStatus status, ulong counter, WireError error)
    {
        Interlocked.Increment(ref _malformed);
        return new KeyTransferOpenResult(status, counter, null, error);
    }

    public void Dispose() => _aes.Dispose();

    public override string ToString() => $"KeyTransferOpener([redacted], last {Guard.LastAccepted})";
}
