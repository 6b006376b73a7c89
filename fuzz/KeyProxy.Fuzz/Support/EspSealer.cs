using System.Buffers.Binary;
using System.Security.Cryptography;
using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Messages;
using KeyProxy.Ike.Protocol;
using KeyProxy.Ipsec.Esp;
using KeyProxy.Primitives;

namespace KeyProxy.Fuzz.Support;

/// <summary>
/// Fixed-key ESP SAs for the <c>esp</c> harness, and an independent sealer that protects any plaintext (trailer
/// included, however wrong) so the fuzzer gets past the ICV: AES-GCM per RFC 4106 (nonce = salt || IV, AAD =
/// SPI || [Seq high] || Seq low, 16-byte ICV) and AES-CBC with HMAC-SHA-256-128 per RFC 3602 / RFC 4868 (ICV over
/// SPI .. ciphertext, then Seq high with ESN, RFC 4303 3.3.2.1). Written from the RFCs, not from the library.
/// </summary>
public static class EspSealer
{
    public const uint Spi = 0x0000_1001;

    /// <summary>AES-128 key || 4-byte salt (RFC 4106 8.1).</summary>
    public static readonly byte[] GcmKey = Enumerable.Range(0x10, 20).Select(i => (byte)i).ToArray();

    public static readonly byte[] CbcKey = Enumerable.Range(0x40, 16).Select(i => (byte)i).ToArray();

    public static readonly byte[] CbcIntegrityKey = Enumerable.Range(0x60, 32).Select(i => (byte)i).ToArray();

    public static EspSuite Suite(bool cbc, bool esn) => new(
        cbc ? EncryptionAlgorithm.AesCbc : EncryptionAlgorithm.AesGcm16, 128,
        cbc ? IntegrityAlgorithm.HmacSha2_256_128 : IntegrityAlgorithm.None,
        esn ? EsnMode.Esn : EsnMode.NoEsn);

    public static EspSaParameters Parameters(bool cbc, bool esn, bool transport) => new()
    {
        Spi = Spi,
        Suite = Suite(cbc, esn),
        EncryptionKey = cbc ? CbcKey : GcmKey,
        IntegrityKey = cbc ? CbcIntegrityKey : ReadOnlyMemory<byte>.Empty,
        Mode = transport ? ChildSaMode.Transport : ChildSaMode.Tunnel,
        Random = new SeededRandom(3),
    };

    public static int IvLength(bool cbc) => cbc ? 16 : 8;

    public static int IcvLength(bool cbc) => 16;

    public static int BlockAlignment(bool cbc) => cbc ? 16 : 4;

    /// <summary>SPI | Seq | IV | E(plaintext) | ICV. <paramref name="plaintext"/> must be a multiple of the block alignment.</summary>
    public static byte[] Seal(bool cbc, bool esn, ulong sequenceNumber, ReadOnlySpan<byte> plaintext)
    {
        var ivLength = IvLength(cbc);
        var packet = new byte[8 + ivLength + plaintext.Length + IcvLength(cbc)];
        var span = packet.AsSpan();
        BinaryPrimitives.WriteUInt32BigEndian(span, Spi);
        BinaryPrimitives.WriteUInt32BigEndian(span[4..], (uint)sequenceNumber);
        var iv = span.Slice(8, ivLength);
        BinaryPrimitives.WriteUInt64BigEndian(iv, sequenceNumber * 0x9E3779B97F4A7C15UL);
        var ciphertext = span.Slice(8 + ivLength, plaintext.Length);
        var icv = span[^16..];
        if (!cbc)
        {
            Span<byte> nonce = stackalloc byte[12];
            GcmKey.AsSpan(16, 4).CopyTo(nonce);
            iv.CopyTo(nonce[4..]);
            Span<byte> aad = stackalloc byte[12];
            span[..4].CopyTo(aad);
            int aadLength;
            if (esn)
            {
                BinaryPrimitives.WriteUInt64BigEndian(aad[4..], sequenceNumber);
                aadLength = 12;
            }
            else
            {
                span.Slice(4, 4).CopyTo(aad[4..]);
                aadLength = 8;
            }
            using var gcm = new AesGcm(GcmKey.AsSpan(0, 16), 16);
            gcm.Encrypt(nonce, plaintext, ciphertext, icv, aad[..aadLength]);
            return packet;
        }

        using (var aes = Aes.Create())
        {
            aes.Key = CbcKey;
            aes.EncryptCbc(plaintext, iv, ciphertext, PaddingMode.None);
        }
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, CbcIntegrityKey);
        hmac.AppendData(span[..^16]);
        if (esn)
        {
            Span<byte> high = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(high, (uint)(sequenceNumber >> 32));
            hmac.AppendData(high);
        }
        Span<byte> full = stackalloc byte[32];
        hmac.GetHashAndReset(full);
        full[..16].CopyTo(icv);
        return packet;
    }

    /// <summary>RFC 4303 2.4: payload | 1, 2, 3, ... | Pad Length | Next Header, aligned to the cipher's block.</summary>
    public static byte[] Plaintext(bool cbc, ReadOnlySpan<byte> payload, byte nextHeader)
    {
        var align = BlockAlignment(cbc);
        var length = (payload.Length + 2 + align - 1) / align * align;
        var plaintext = new byte[length];
        payload.CopyTo(plaintext);
        var padLength = length - payload.Length - 2;
        for (var i = 0; i < padLength; i++)
            plaintext[payload.Length + i] = (byte)(i + 1);
        plaintext[^2] = (byte)padLength;
        plaintext[^1] = nextHeader;
        return plaintext;
    }
}
