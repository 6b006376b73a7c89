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
        if (decrypted.Length == 0)
        {
            return null;
        }

        var padLength = decrypted[^1];
        var payloadLength = decrypted.Length - 1 - padLength;
        if (payloadLength < 0)
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(decrypted);
            return null;
        }

        if (payloadLength == decrypted.Length)
        {
            return decrypted;
        }

        var result = decrypted.AsSpan(0, payloadLength).ToArray();
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(decrypted);
        return result;
    }
}
