using System.Buffers.Binary;
using System.Security.Cryptography;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Crypto;

/// <summary>
/// ENCR_AES_GCM_16 for the SK/SKF payload (RFC 5282). Key material is key || 4-byte salt
/// (RFC 5282 7.1); the body is 8-byte IV | ciphertext | 16-byte ICV (RFC 5282 3); the nonce is
/// salt || IV (RFC 5282 4); the AAD is the IKE header through the SK payload header (RFC 5282 5.1).
/// GCM needs no block alignment, so the sender adds no padding bytes, only the Pad Length octet.
/// The IV is a counter from a random start: RFC 5282 4 requires it never repeat under one key, and
/// a counter cannot collide within this instance (random start guards against a re-created one).
/// Thread-safe: calls on one instance are serialised.
/// </summary>
public sealed class AesGcmSkCipher : SkBodyCipher, IDisposable
{
    public const int IvLength = 8;
    public const int IcvLength = 16;
    public const int SaltLength = TransformSizes.GcmSaltLength;

    private readonly AesGcm _aes;
    private readonly byte[] _salt;
    private readonly Lock _lock = new();
    private ulong _counter;

    public AesGcmSkCipher(ReadOnlySpan<byte> keyMaterial)
    {
        var keyLength = keyMaterial.Length - SaltLength;
        if (keyLength is not (16 or 24 or 32))
        {
            throw new ArgumentException("AES-GCM key material must be a 128, 192 or 256-bit key followed by a 4-byte salt", nameof(keyMaterial));
        }

        _aes = new AesGcm(keyMaterial[..keyLength], IcvLength);
        _salt = keyMaterial[keyLength..].ToArray();
        Span<byte> start = stackalloc byte[8];
        RandomNumberGenerator.Fill(start);
        _counter = BinaryPrimitives.ReadUInt64BigEndian(start);
    }

    public override int GetSealedLength(int plaintextLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(plaintextLength);
        return IvLength + plaintextLength + 1 + IcvLength;
    }

    public override int GetMaxPlaintextLength(int sealedLength) => Math.Max(0, sealedLength - IvLength - 1 - IcvLength);

    public override void Seal(Span<byte> message, int bodyOffset, ReadOnlySpan<byte> plaintext)
    {
        var body = message[bodyOffset..];
        if (body.Length != GetSealedLength(plaintext.Length))
        {
            throw new ArgumentException("message length must be bodyOffset + GetSealedLength(plaintext.Length)", nameof(message));
        }

        var iv = body[..IvLength];
        var data = body[IvLength..^IcvLength];
        var tag = body[^IcvLength..];
        plaintext.CopyTo(data);
        data[^1] = 0; // Pad Length: no padding (RFC 7296 3.14)

        Span<byte> nonce = stackalloc byte[12];
        _salt.CopyTo(nonce);
        lock (_lock)
        {
            BinaryPrimitives.WriteUInt64BigEndian(iv, _counter++);
            iv.CopyTo(nonce[SaltLength..]);
            _aes.Encrypt(nonce, data, data, tag, message[..bodyOffset]);
        }
    }

    protected override byte[]? Decrypt(ReadOnlySpan<byte> message, int bodyOffset)
    {
        if (bodyOffset < 0 || bodyOffset > message.Length)
        {
            return null;
        }

        var body = message[bodyOffset..];
        if (body.Length < IvLength + 1 + IcvLength)
        {
            return null;
        }

        Span<byte> nonce = stackalloc byte[12];
        _salt.CopyTo(nonce);
        body[..IvLength].CopyTo(nonce[SaltLength..]);
        var ciphertext = body[IvLength..^IcvLength];
        var plaintext = new byte[ciphertext.Length];
        try
        {
            lock (_lock)
            {
                _aes.Decrypt(nonce, ciphertext, body[^IcvLength..], plaintext, message[..bodyOffset]);
            }
        }
        catch (AuthenticationTagMismatchException)
        {
            return null;
        }

        return plaintext;
    }

    public void Dispose() => _aes.Dispose();
}
