using System.Buffers;
using System.Security.Cryptography;
using KeyProxy.Ike.Messages;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Crypto;

/// <summary>
/// ENCR_AES_CBC (RFC 3602 as used by RFC 7296 3.14) with AUTH_HMAC_SHA2_256_128 / 384_192 /
/// 512_256 (RFC 4868) for the SK/SKF payload. Body: 16-byte random IV | CBC ciphertext of
/// (payloads | padding | pad length), a multiple of 16 bytes | ICV, where the ICV is the truncated
/// HMAC over the message from the IKE header to the end of the ciphertext (RFC 7296 3.14).
/// Open checks the ICV (constant time) before decrypting. Thread-safe: calls are serialised.
/// </summary>
public sealed class AesCbcHmacSkCipher : SkBodyCipher, IDisposable
{
    public const int BlockLength = 16;

    private readonly Aes _aes;
    private readonly IntegrityAlgorithm _integrity;
    private readonly byte[] _integrityKey;
    private readonly int _icvLength;
    private readonly Lock _lock = new();

    public AesCbcHmacSkCipher(ReadOnlySpan<byte> encryptionKey, IntegrityAlgorithm integrity, ReadOnlySpan<byte> integrityKey)
    {
        if (encryptionKey.Length is not (16 or 24 or 32))
        {
            throw new ArgumentException("AES-CBC key must be 128, 192 or 256 bits", nameof(encryptionKey));
        }

        if (integrity == IntegrityAlgorithm.None || integrityKey.Length != IntegrityHmac.KeyLength(integrity))
        {
            throw new ArgumentException($"integrity key for {integrity} must be {IntegrityHmac.KeyLength(integrity)} bytes", nameof(integrityKey));
        }

        _aes = Aes.Create();
        _aes.Key = encryptionKey.ToArray();
        _integrity = integrity;
        _integrityKey = integrityKey.ToArray();
        _icvLength = IntegrityHmac.IcvLength(integrity);
    }

    public IntegrityAlgorithm Integrity => _integrity;

    public override int GetSealedLength(int plaintextLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(plaintextLength);
        return BlockLength + CiphertextLength(plaintextLength) + _icvLength;
    }

    public override int GetMaxPlaintextLength(int sealedLength)
    {
        var ciphertext = (sealedLength - BlockLength - _icvLength) / BlockLength * BlockLength;
        return Math.Max(0, ciphertext - 1);
    }

    public override void Seal(Span<byte> message, int bodyOffset, ReadOnlySpan<byte> plaintext)
    {
        var body = message[bodyOffset..];
        if (body.Length != GetSealedLength(plaintext.Length))
        {
            throw new ArgumentException("message length must be bodyOffset + GetSealedLength(plaintext.Length)", nameof(message));
        }

        var ciphertextLength = CiphertextLength(plaintext.Length);
        var iv = body[..BlockLength];
        RandomNumberGenerator.Fill(iv);

        var padded = ArrayPool<byte>.Shared.Rent(ciphertextLength);
        try
        {
            var block = padded.AsSpan(0, ciphertextLength);
            plaintext.CopyTo(block);
            var padLength = ciphertextLength - plaintext.Length - 1;
            block.Slice(plaintext.Length, padLength).Clear(); // pad contents are arbitrary (RFC 7296 3.14)
            block[^1] = (byte)padLength;
            lock (_lock)
            {
                _aes.EncryptCbc(block, iv, body.Slice(BlockLength, ciphertextLength), PaddingMode.None);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(padded.AsSpan(0, ciphertextLength));
            ArrayPool<byte>.Shared.Return(padded);
        }

        var authenticatedLength = bodyOffset + BlockLength + ciphertextLength;
        IntegrityHmac.Compute(_integrity, _integrityKey, message[..authenticatedLength], message.Slice(authenticatedLength, _icvLength));
    }

    protected override byte[]? Decrypt(ReadOnlySpan<byte> message, int bodyOffset)
    {
        if (bodyOffset < 0 || bodyOffset > message.Length)
        {
            return null;
        }

        var ciphertextLength = message.Length - bodyOffset - BlockLength - _icvLength;
        if (ciphertextLength < BlockLength || ciphertextLength % BlockLength != 0)
        {
            return null;
        }

        var authenticatedLength = message.Length - _icvLength;
        Span<byte> icv = stackalloc byte[32];
        IntegrityHmac.Compute(_integrity, _integrityKey, message[..authenticatedLength], icv);
        if (!CryptographicOperations.FixedTimeEquals(icv[.._icvLength], message[authenticatedLength..]))
        {
            return null;
        }

        var body = message[bodyOffset..];
        var plaintext = new byte[ciphertextLength];
        lock (_lock)
        {
            _aes.DecryptCbc(body.Slice(BlockLength, ciphertextLength), body[..BlockLength], plaintext, PaddingMode.None);
        }

        return plaintext;
    }

    public void Dispose()
    {
        _aes.Dispose();
        CryptographicOperations.ZeroMemory(_integrityKey);
    }

    /// <summary>Payloads + pad length octet, rounded up to the AES block (RFC 7296 3.14).</summary>
    private static int CiphertextLength(int plaintextLength) => (plaintextLength + 1 + BlockLength - 1) / BlockLength * BlockLength;
}
