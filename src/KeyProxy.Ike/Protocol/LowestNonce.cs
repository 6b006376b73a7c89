namespace KeyProxy.Ike.Protocol;

/// <summary>
/// RFC 7296 2.8.1/2.8.2: of two SAs created by colliding rekeys, the one whose exchange used the
/// lowest of the four nonces is redundant. Nonces compare as unsigned byte strings (memcmp order,
/// the shorter first on a common prefix).
/// </summary>
internal static class LowestNonce
{
    /// <summary>True when the lowest of the four nonces belongs to the first exchange.</summary>
    public static bool IsInFirst(byte[] firstI, byte[] firstR, byte[] secondI, byte[] secondR)
    {
        var first = Lower(firstI, firstR);
        var second = Lower(secondI, secondR);
        return first.AsSpan().SequenceCompareTo(second) < 0;
    }

    private static byte[] Lower(byte[] a, byte[] b) => a.AsSpan().SequenceCompareTo(b) <= 0 ? a : b;
}
