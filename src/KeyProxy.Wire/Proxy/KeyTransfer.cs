using System.Buffers.Binary;

namespace KeyProxy.Wire.Proxy;

/// <summary>
/// Layout of the sealed key transfer (docs/wire.md, "Key transfer"): IKE header (exchange 241, flags R,
/// Message ID = low 32 bits of the counter), generic payload header (type 129, critical), then
/// counter (8) || nonce (12) || AES-256-GCM ciphertext || tag (16). AAD = the 28-byte IKE header ||
/// the 4-byte generic payload header || the counter.
/// </summary>
public static class KeyTransfer
{
    public const int KeySize = 32;
    public const int CounterSize = 8;
    public const int NonceSize = 12;
    public const int TagSize = 16;

    /// <summary>Bytes around the ciphertext: both headers, counter, nonce, tag.</summary>
    public const int Overhead = KeyProxyHeader.Size + CounterSize + NonceSize + TagSize;

    /// <summary>AAD length: IKE header, generic payload header, counter.</summary>
    public const int AadSize = KeyProxyHeader.Size + CounterSize;

    /// <summary>Largest plaintext that keeps the payload length within its u16 field.</summary>
    public const int MaxPlaintext = ushort.MaxValue - KeyProxyHeader.GenericPayloadHeaderSize - CounterSize - NonceSize - TagSize;

    public static int SealedLength(int plaintextLength) => Overhead + plaintextLength;

    /// <summary>Reads the counter of a key transfer without opening it (e.g. for logging); false if malformed.</summary>
    public static bool TryReadCounter(ReadOnlySpan<byte> message, out ulong counter)
    {
        counter = 0;
        if (KeyProxyHeader.TryRead(message, KeyProxyHeader.KeyTransferPayload, KeyProxyHeader.KeyTransferExchange, KeyProxyHeader.ResponseFlag,
                out _, out var body) != WireError.None || body.Length < CounterSize)
            return false;
        counter = BinaryPrimitives.ReadUInt64BigEndian(body);
        return true;
    }
}
