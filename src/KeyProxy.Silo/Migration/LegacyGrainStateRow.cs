using System.Globalization;
using System.Text;
using Azure.Data.Tables;

namespace KeyProxy.Silo.Migration;

/// <summary>
/// How the project's own grain storage (before issue 14, table <c>KeyProxyGrainState</c>) laid out a row, for
/// reading only: PartitionKey = escaped "serviceId/grainId", RowKey = escaped state name, the Orleans-binary state
/// split over binary columns Data0, Data1, ... with its length in DataSize, and Cleared for an emptied state.
/// Escaping turned '/', '\', '#', '?', '%', '~' and control characters into %XX.
/// </summary>
internal static class LegacyGrainStateRow
{
    public const string Table = "KeyProxyGrainState";

    /// <summary>The escaped form of a key prefix (keys longer than 512 characters were also hashed: prefixes stay).</summary>
    public static string EscapeKey(string value)
    {
        var sb = new StringBuilder(value.Length + 8);
        foreach (var c in value)
        {
            if (c is '/' or '\\' or '#' or '?' or '%' or '~' || c < 0x20 || c is >= (char)0x7F and <= (char)0x9F)
                sb.Append('%').Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
            else
                sb.Append(c);
        }

        return sb.ToString();
    }

    /// <summary>The serialized state of <paramref name="row"/>, empty for a cleared state; throws <see cref="InvalidDataException"/> when the columns do not add up.</summary>
    public static byte[] ReadData(TableEntity row)
    {
        if (row.GetBoolean("Cleared") == true) return [];
        var size = row.GetInt32("DataSize") ?? throw new InvalidDataException("no DataSize column");
        var data = new byte[size];
        var offset = 0;
        for (var i = 0; offset < size; i++)
        {
            var chunk = row.GetBinary("Data" + i.ToString(CultureInfo.InvariantCulture));
            if (chunk is null || chunk.Length == 0 || chunk.Length > size - offset)
                throw new InvalidDataException($"column Data{i} missing or too long for DataSize {size}");
            chunk.CopyTo(data, offset);
            offset += chunk.Length;
        }

        return data;
    }
}
