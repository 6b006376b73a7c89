using System.Buffers.Binary;
using System.Security.Cryptography;
using KeyProxy.Ike.Crypto;

namespace KeyProxy.Ike.Tests.Codec;

/// <summary>
/// Test-only SK protection: 8-byte IV, XOR "encryption" over 8-byte blocks with RFC 7296 3.14 style
/// padding and pad length, 8-byte ICV = truncated HMAC-SHA256 over message[0..end of ciphertext].
/// Shaped like CBC + HMAC so the codec's length arithmetic is exercised; not a cipher.
/// </summary>
internal sealed class XorTestCipher(byte key) : ISkCipher
{
    const int IvSize = 8;
    const int Block = 8;
    const int IcvSize = 8;

    ulong _iv = 0x0102030405060708;

    public int SealCalls { get; private set; }

    public int OpenCalls { get; private set; }

    static int CiphertextLength(int plaintextLength) => (plaintextLength + 1 + Block - 1) / Block * Block;

    public int GetSealedLength(int plaintextLength) => IvSize + CiphertextLength(plaintextLength) + IcvSize;

    public int GetMaxPlaintextLength(int sealedLength)
    {
        int ciphertext = (sealedLength - IvSize - IcvSize) / Block * Block;
        return ciphertext < Block ? -1 : ciphertext - 1;
    }

    public void Seal(Span<byte> message, int bodyOffset, ReadOnlySpan<byte> plaintext)
    {
        SealCalls++;
        int ctLength = CiphertextLength(plaintext.Length);
        if (message.Length != bodyOffset + IvSize + ctLength + IcvSize)
            throw new ArgumentException("message length does not match GetSealedLength");
        var iv = message.Slice(bodyOffset, IvSize);
        BinaryPrimitives.WriteUInt64BigEndian(iv, _iv++);
        var ct = message.Slice(bodyOffset + IvSize, ctLength);
        plaintext.CopyTo(ct);
        int padLength = ctLength - plaintext.Length - 1;
        for (int i = 0; i < padLength; i++)
            ct[plaintext.Length + i] = (byte)(0xA0 + i);
        ct[^1] = (byte)padLength;
        Xor(ct, iv);
        Icv(message[..(bodyOffset + IvSize + ctLength)]).CopyTo(message[(bodyOffset + IvSize + ctLength)..]);
    }

    public byte[]? Open(ReadOnlySpan<byte> message, int bodyOffset)
    {
        OpenCalls++;
        int ctLength = message.Length - bodyOffset - IvSize - IcvSize;
        if (ctLength < Block || ctLength % Block != 0)
            return null;
        var expected = Icv(message[..(bodyOffset + IvSize + ctLength)]);
        if (!CryptographicOperations.FixedTimeEquals(expected, message[(bodyOffset + IvSize + ctLength)..]))
            return null;
        var ct = message.Slice(bodyOffset + IvSize, ctLength).ToArray();
        Xor(ct, message.Slice(bodyOffset, IvSize));
        int padLength = ct[^1];
        if (padLength > ctLength - 1)
            return null;
        return ct[..(ctLength - 1 - padLength)];
    }

    void Xor(Span<byte> data, ReadOnlySpan<byte> iv)
    {
        for (int i = 0; i < data.Length; i++)
            data[i] ^= (byte)(key ^ iv[i % IvSize] ^ i);
    }

    byte[] Icv(ReadOnlySpan<byte> authenticated) => HMACSHA256.HashData([key, 0x5A], authenticated)[..IcvSize];
}
