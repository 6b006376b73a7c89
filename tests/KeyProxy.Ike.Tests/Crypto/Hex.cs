namespace KeyProxy.Ike.Tests.Crypto;

internal static class Hex
{
    /// <summary>Hex to bytes; spaces and line breaks are ignored.</summary>
    public static byte[] Bytes(string hex) => Convert.FromHexString(string.Concat(hex.Where(c => !char.IsWhiteSpace(c))));

    public static string Of(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes);
}
