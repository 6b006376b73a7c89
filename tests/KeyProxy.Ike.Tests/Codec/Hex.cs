namespace KeyProxy.Ike.Tests.Codec;

internal static class Hex
{
    /// <summary>Hex with any whitespace, '|' or '_' as separators.</summary>
    public static byte[] Parse(string text)
    {
        var chars = new System.Text.StringBuilder(text.Length);
        foreach (var c in text)
            if (!char.IsWhiteSpace(c) && c != '|' && c != '_')
                chars.Append(c);
        return Convert.FromHexString(chars.ToString());
    }

    public static string Of(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes);
}
