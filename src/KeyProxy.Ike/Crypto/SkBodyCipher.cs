namespace KeyProxy.Ike.Crypto;

/// <summary>
/// The receive side the SK ciphers share: the whole body is decrypted (inner payloads, Padding, Pad Length) once its
/// ICV verifies, then the padding is removed (RFC 7296 3.14). Subclasses seal and decrypt.
/// </summary>
public abstract class SkBodyCipher : ISkCipher
{
    public abstract int GetSealedLength(int plaintextLength);

    public abstract int GetMaxPlaintextLength(int sealedLength);

    public abstract void Seal(Span<byte> message, int bodyOffset, ReadOnlySpan<byte> plaintext);

    public byte[]? Open(ReadOnlySpan<byte> message, int bodyOffset) =>
        Decrypt(message, bodyOffset) is { } decrypted ? SkPadding.Strip(decrypted) : null;

    public bool TryOpen(ReadOnlySpan<byte> message, int bodyOffset, out ReadOnlyMemory<byte> plaintext)
    {
        plaintext = default;
        return Decrypt(message, bodyOffset) is { } decrypted && SkPadding.TryStrip(decrypted, out plaintext);
    }

    /// <summary>The decrypted body (payloads, padding, pad length) once the ICV verified, or null.</summary>
    protected abstract byte[]? Decrypt(ReadOnlySpan<byte> message, int bodyOffset);
}
