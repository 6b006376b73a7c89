namespace KeyProxy.Ike.Crypto;

/// <summary>
/// Protection of the Encrypted (SK, RFC 7296 3.14) and Encrypted Fragment (SKF, RFC 7383 2.5)
/// payload bodies for one direction of an IKE SA: SK_ei/SK_ai or SK_er/SK_ar.
/// The body is IV | ciphertext(inner payloads | padding | pad length) | ICV.
/// AEAD (RFC 5282): the associated data is the message from the IKE header up to the end of the
/// SK/SKF generic payload header (plus fragment fields for SKF), i.e. message[0..bodyOffset).
/// CBC + HMAC: the ICV is the truncated HMAC over message[0..end of ciphertext).
/// </summary>
public interface ISkCipher
{
    /// <summary>Length of the body produced for a plaintext of this length (IV, padding, pad length byte and ICV included).</summary>
    int GetSealedLength(int plaintextLength);

    /// <summary>Largest plaintext whose sealed body fits in <paramref name="sealedLength"/> bytes (for fragmentation).</summary>
    int GetMaxPlaintextLength(int sealedLength);

    /// <summary>
    /// Writes the body at message[bodyOffset..] (message.Length must be bodyOffset + GetSealedLength(plaintext.Length)).
    /// message[0..bodyOffset) must already hold the final header bytes, length fields included.
    /// </summary>
    void Seal(Span<byte> message, int bodyOffset, ReadOnlySpan<byte> plaintext);

    /// <summary>
    /// Verifies and decrypts the body at message[bodyOffset..] (to the end of <paramref name="message"/>).
    /// Returns the inner payload bytes with padding removed, or null when the ICV or the padding does not verify.
    /// </summary>
    byte[]? Open(ReadOnlySpan<byte> message, int bodyOffset);

    /// <summary>
    /// As <see cref="Open"/>, with the inner payload bytes as a slice of the decrypted buffer (the padding left behind it)
    /// instead of a copy without it; false when the ICV or the padding does not verify.
    /// </summary>
    bool TryOpen(ReadOnlySpan<byte> message, int bodyOffset, out ReadOnlyMemory<byte> plaintext)
    {
        var opened = Open(message, bodyOffset);
        plaintext = opened;
        return opened is not null;
    }
}
