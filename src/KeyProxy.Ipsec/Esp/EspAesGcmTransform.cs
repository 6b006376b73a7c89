using System.Buffers.Binary;
using System.Security.Cryptography;
using KeyProxy.Primitives;

namespace KeyProxy.Ipsec.Esp;

/// <summary>
/// ENCR_AES_GCM_16 for ESP (RFC 4106): key material is key || 4-byte salt (8.1), the nonce is salt || 8-byte
/// explicit IV (4), the AAD is SPI || Sequence Number, or SPI || high 32 bits || low 32 bits with ESN (5),
/// the ICV is 16 bytes. The IV is the 64-bit sequence number XOR a random mask fixed per SA: unique for every
/// packet of the SA as RFC 4106 3.1 requires, and not repeated by a second instance built from the same keys.
/// </summary>
internal sealed class EspAesGcmTransform : EspTransform
{
    public const int SaltLength = 4;
    public const int ExplicitIvLength = 8;
    public const int TagLength = 16;

    private readonly AesGcm _aes;
    private readonly uint _salt;
    private readonly ulong _ivMask;

    public EspAesGcmTransform(ReadOnlySpan<byte> keyMaterial, IRandomSource random)
    {
        var keyLength = keyMaterial.Length - SaltLength;
        _aes = new AesGcm(keyMaterial[..keyLength], TagLength);
        _salt = BinaryPrimitives.ReadUInt32BigEndian(keyMaterial[keyLength..]);
        Span<byte> mask = stackalloc byte[8];
        random.Fill(mask);
        _ivMask = BinaryPrimitives.ReadUInt64BigEndian(mask);
    }

    public override int IvLength => ExplicitIvLength;

    public override int IcvLength => TagLength;

    /// <summary>RFC 4303 2.4: 4-byte alignment of the trailer, GCM itself needs none.</summary>
    public override int BlockAlignment => 4;

    public override void Seal(Span<byte> packet, ulong sequenceNumber, bool esn)
    {
        var iv = packet.Slice(EspPacket.HeaderLength, ExplicitIvLength);
        BinaryPrimitives.WriteUInt64BigEndian(iv, sequenceNumber ^ _ivMask);
        Span<byte> nonce = stackalloc byte[12];
        WriteNonce(nonce, _salt, iv);
        Span<byte> aad = stackalloc byte[12];
        var aadLength = WriteAad(aad, packet, sequenceNumber, esn);
        var data = packet[(EspPacket.HeaderLength + ExplicitIvLength)..^TagLength];
        _aes.Encrypt(nonce, data, data, packet[^TagLength..], aad[..aadLength]);
    }

    public override bool Open(ReadOnlySpan<byte> packet, ulong sequenceNumber, bool esn, Span<byte> plaintext)
    {
        Span<byte> nonce = stackalloc byte[12];
        WriteNonce(nonce, _salt, packet.Slice(EspPacket.HeaderLength, ExplicitIvLength));
        Span<byte> aad = stackalloc byte[12];
        var aadLength = WriteAad(aad, packet, sequenceNumber, esn);
        var ciphertext = packet[(EspPacket.HeaderLength + ExplicitIvLength)..^TagLength];
        try
        {
            _aes.Decrypt(nonce, ciphertext, packet[^TagLength..], plaintext, aad[..aadLength]);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }
    }

    /// <summary>RFC 4106 4: the 12-byte nonce is the 4-byte salt followed by the 8-byte explicit IV.</summary>
    internal static void WriteNonce(Span<byte> nonce, uint salt, ReadOnlySpan<byte> iv)
    {
        BinaryPrimitives.WriteUInt32BigEndian(nonce, salt);
        iv[..ExplicitIvLength].CopyTo(nonce[SaltLength..]);
    }

    /// <summary>RFC 4106 5: SPI || [Seq high] || Seq low.</summary>
    private static int WriteAad(Span<byte> aad, ReadOnlySpan<byte> packet, ulong sequenceNumber, bool esn)
    {
        packet[..4].CopyTo(aad);
        if (!esn)
        {
            packet.Slice(4, 4).CopyTo(aad[4..]);
            return 8;
        }

        BinaryPrimitives.WriteUInt64BigEndian(aad[4..], sequenceNumber);
        return 12;
    }

    public override void Dispose() => _aes.Dispose();
}
