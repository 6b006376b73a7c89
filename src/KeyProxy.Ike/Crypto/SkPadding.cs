namespace KeyProxy.Ike.Crypto;

/// <summary>Receive side of the SK payload padding (RFC 7296 3.14).</summary>
internal static class SkPadding
{
    /// <summary>
    /// Removes Padding and the Pad Length octet from a decrypted body. Padding "MAY contain any value
    /// chosen by the sender" and the recipient "MUST accept any length that results in proper
    /// alignment" (RFC 7296 3.14): contents are not checked, only that the pad length fits inside
    /// the decrypted data. Returns null when it does not.
    /// </summary>
    public static byte[]? Strip(byte[] decrypted)
    {
        if (!TryStrip(decrypted, out var payloads)) return null;
        var result = payloads.ToArray();
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(decrypted);
        return result;
    }

    /// <summary>As <see cref="Strip"/>, without copying: the payload bytes as a slice of <paramref name="decrypted"/>.</summary>
    public static bool TryStrip(byte[] decrypted, out ReadOnlyMemory<byte> payloads)
    {
        payloads = default;
        if (decrypted.Length == 0)
        {
            return false;
        }

        var payloadLength = decrypted.Length - 1 - decrypted[^1];
        if (payloadLength < 0)
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(decrypted);
            return false;
        }

        payloads = decrypted.AsMemory(0, payloadLength);
        return true;
    }
}
