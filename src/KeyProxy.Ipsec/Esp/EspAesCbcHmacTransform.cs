using System.Buffers.Binary;
using System.Security.Cryptography;
using KeyProxy.Primitives;

namespace KeyProxy.Ipsec.Esp;

/// <summary>
/// ENCR_AES_CBC (RFC 3602) with AUTH_HMAC_SHA2_256_128 / 384_192 / 512_256 (RFC 4868): a random 16-byte IV per
/// packet, encrypt-then-MAC, ICV = HMAC over SPI | Seq | IV | ciphertext, truncated to half the hash. With ESN the
/// high 32 bits of the sequence number are appended to the ICV input but not sent (RFC 4303 2.2.1, 3.3.2.1).
/// <para>
/// Allocation-free CBC: one CBC encryptor and one decryptor with a zero IV are kept for the life of the SA and
/// never finalised, so their chaining value is the last ciphertext block they saw. Encrypting a packet XORs its
/// first plaintext block with (IV XOR that chaining value); decrypting XORs the first output block with
/// (IV XOR the last ciphertext block fed before). Both give exactly CBC with the packet's IV.
/// </para>
/// </summary>
internal sealed class EspAesCbcHmacTransform : EspTransform
{
    public const int BlockSize = 16;

    [ThreadStatic]
    private static byte[]? s_scratch;

    private readonly Aes _aes;
    private readonly ICryptoTransform _encryptor;
    private readonly ICryptoTransform _decryptor;
    private readonly IncrementalHash _hmac;
    private readonly IRandomSource _random;
    private readonly int _icvLength;
    private readonly byte[] _encryptChain = new byte[BlockSize];
    private readonly byte[] _decryptChain = new byte[BlockSize];

    public EspAesCbcHmacTransform(ReadOnlySpan<byte> key, IntegrityAlgorithm integrity, ReadOnlySpan<byte> integrityKey, IRandomSource random)
    {
        _random = random;
        _aes = Aes.Create();
        var keyCopy = key.ToArray();
        var zeroIv = new byte[BlockSize];
        try
        {
            _aes.Key = keyCopy;
            _aes.Mode = CipherMode.CBC;
            _aes.Padding = PaddingMode.None;
            _encryptor = _aes.CreateEncryptor(keyCopy, zeroIv);
            _decryptor = _aes.CreateDecryptor(keyCopy, zeroIv);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(keyCopy);
        }

        var (hash, icv) = integrity switch
        {
            IntegrityAlgorithm.HmacSha2_256_128 => (HashAlgorithmName.SHA256, 16),
            IntegrityAlgorithm.HmacSha2_384_192 => (HashAlgorithmName.SHA384, 24),
            IntegrityAlgorithm.HmacSha2_512_256 => (HashAlgorithmName.SHA512, 32),
            _ => throw new ArgumentException($"integrity algorithm {integrity} is not supported with AES-CBC", nameof(integrity)),
        };
        _icvLength = icv;
        _hmac = IncrementalHash.CreateHMAC(hash, integrityKey);
    }

    public override int IvLength => BlockSize;

    public override int IcvLength => _icvLength;

    public override int BlockAlignment => BlockSize;

    public override void Seal(Span<byte> packet, ulong sequenceNumber, bool esn)
    {
        var iv = packet.Slice(EspPacket.HeaderLength, BlockSize);
        _random.Fill(iv);
        var data = packet[(EspPacket.HeaderLength + BlockSize)..^_icvLength];
        var scratch = Scratch(data.Length);
        data.CopyTo(scratch);
        for (var i = 0; i < BlockSize; i++)
        {
            scratch[i] ^= (byte)(iv[i] ^ _encryptChain[i]);
        }

        _encryptor.TransformBlock(scratch, 0, data.Length, scratch, 0);
        scratch.AsSpan(data.Length - BlockSize, BlockSize).CopyTo(_encryptChain);
        scratch.AsSpan(0, data.Length).CopyTo(data);
        scratch.AsSpan(0, data.Length).Clear();
        ComputeIcv(packet[..^_icvLength], sequenceNumber, esn, packet[^_icvLength..]);
    }

    public override bool Open(ReadOnlySpan<byte> packet, ulong sequenceNumber, bool esn, Span<byte> plaintext)
    {
        Span<byte> icv = stackalloc byte[32];
        ComputeIcv(packet[..^_icvLength], sequenceNumber, esn, icv);
        if (!CryptographicOperations.FixedTimeEquals(icv[.._icvLength], packet[^_icvLength..]))
        {
            return false;
        }

        var iv = packet.Slice(EspPacket.HeaderLength, BlockSize);
        var ciphertext = packet[(EspPacket.HeaderLength + BlockSize)..^_icvLength];
        var scratch = Scratch(ciphertext.Length);
        ciphertext.CopyTo(scratch);
        _decryptor.TransformBlock(scratch, 0, ciphertext.Length, scratch, 0);
        for (var i = 0; i < BlockSize; i++)
        {
            scratch[i] ^= (byte)(iv[i] ^ _decryptChain[i]);
        }

        ciphertext[^BlockSize..].CopyTo(_decryptChain);
        scratch.AsSpan(0, ciphertext.Length).CopyTo(plaintext);
        scratch.AsSpan(0, ciphertext.Length).Clear();
        return true;
    }

    /// <summary>RFC 4868 2.1.1 truncated HMAC; RFC 4303 3.3.2.1 appends Seq high bits when ESN.</summary>
    internal void ComputeIcv(ReadOnlySpan<byte> authenticated, ulong sequenceNumber, bool esn, Span<byte> icv)
    {
        _hmac.AppendData(authenticated);
        if (esn)
        {
            Span<byte> high = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(high, (uint)(sequenceNumber >> 32));
            _hmac.AppendData(high);
        }

        Span<byte> full = stackalloc byte[64];
        var written = _hmac.GetHashAndReset(full);
        full[..(written / 2)].CopyTo(icv);
    }

    private static byte[] Scratch(int length)
    {
        var scratch = s_scratch;
        if (scratch is null || scratch.Length < length)
        {
            scratch = new byte[Math.Max(length, 2048)];
            s_scratch = scratch;
        }

        return scratch;
    }

    public override void Dispose()
    {
        _encryptor.Dispose();
        _decryptor.Dispose();
        _aes.Dispose();
        _hmac.Dispose();
    }
}
