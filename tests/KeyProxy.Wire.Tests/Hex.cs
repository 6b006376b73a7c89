using System.Text;

namespace KeyProxy.Wire.Tests;

internal static class Hex
{
    /// <summary>Hex with any whitespace as separator.</summary>
    public static byte[] Parse(string text)
    {
        var chars = new StringBuilder(text.Length);
        foreach (char c in text)
            if (!char.IsWhiteSpace(c))
                chars.Append(c);
        return Convert.FromHexString(chars.ToString());
    }

    public static string Of(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);

    /// <summary>16 bytes a line, bytes separated by spaces, as docs/wire.md shows them.</summary>
    public static string Dump(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < bytes.Length; i++)
        {
            if (i > 0)
                sb.Append(i % 16 == 0 ? '\n' : ' ');
            sb.Append(bytes[i].ToString("x2"));
        }

        return sb.ToString();
    }
}
