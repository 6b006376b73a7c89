using System.Security.Cryptography;
using System.Text;

namespace KeyProxy.Storage.AzureTable;

/// <summary>
/// Turns arbitrary strings (cluster ids, grain ids, state names) into valid Azure Table
/// PartitionKey / RowKey values. Azure forbids '/', '\', '#', '?' and control characters in keys
/// and limits a key to 1 KiB; the escaping is injective, so two different inputs never share a key.
/// </summary>
public static class AzureTableKeys
{
    /// <summary>Longest key (in UTF-16 code units) kept verbatim: 512 code units are 1 KiB.</summary>
    public const int MaxKeyLength = 512;

    private const int HashedPrefixLength = 400;

    /// <summary>
    /// Escapes <paramref name="value"/>: '%' and every forbidden character become "%XX" (or "%uXXXX"),
    /// '~' is escaped as well because it marks hashed keys. A result longer than
    /// <see cref="MaxKeyLength"/> is cut to a prefix followed by '~' and the SHA-256 of the whole escaped value.
    /// </summary>
    public static string Escape(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        StringBuilder? sb = null;
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            if (NeedsEscape(c))
            {
                sb ??= new StringBuilder(value.Length + 16).Append(value, 0, i);
                if (c <= 0xFF)
                {
                    sb.Append('%').Append(((int)c).ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
                }
                else
                {
                    sb.Append("%u").Append(((int)c).ToString("X4", System.Globalization.CultureInfo.InvariantCulture));
                }
            }
            else
            {
                sb?.Append(c);
            }
        }

        string escaped = sb?.ToString() ?? value;
        if (escaped.Length <= MaxKeyLength)
        {
            return escaped;
        }

        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(escaped), hash);
        return string.Concat(escaped.AsSpan(0, HashedPrefixLength), "~", Convert.ToHexString(hash));
    }

    /// <summary>True for characters Azure Table keys may not contain, plus the escape characters themselves.</summary>
    internal static bool NeedsEscape(char c) =>
        c is '/' or '\\' or '#' or '?' or '%' or '~'
        || c < 0x20
        || (c >= 0x7F && c <= 0x9F);
}
