using System.Globalization;
using System.Text;
using Azure.Data.Tables;
using KeyProxy.Abstractions;
using KeyProxy.Grains;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;

namespace KeyProxy.Cluster.Tests;

/// <summary>
/// Rows as the project's own grain storage wrote them before issue 14, in table KeyProxyGrainState: PartitionKey the
/// escaped "serviceId/grainId" ('/' as %2F), RowKey the state name, the state in Orleans' binary format in Data0..n
/// with its length in DataSize. Written here the way that code wrote them, for the migration test.
/// </summary>
internal static class LegacyRows
{
    public const string Table = "KeyProxyGrainState";

    private static readonly OrleansGrainStorageSerializer Binary =
        new(new ServiceCollection().AddSerializer(b => b.AddAssembly(typeof(SubscriberState).Assembly).AddAssembly(typeof(SubscriberProfile).Assembly))
            .BuildServiceProvider().GetRequiredService<Serializer>());

    public static async Task WriteSubscriberAsync(string connectionString, string serviceId, string nai, SubscriberState state)
    {
        var table = new TableClient(connectionString, Table);
        await table.CreateIfNotExistsAsync();
        var data = Binary.Serialize(state).ToArray();
        var row = new TableEntity(Escape($"{serviceId}/subscriber/{nai}"), "subscriber") { ["DataSize"] = data.Length };
        for (int i = 0, offset = 0; offset < data.Length; i++, offset += 64 * 1024)
        {
            row["Data" + i.ToString(CultureInfo.InvariantCulture)] = data[offset..Math.Min(data.Length, offset + 64 * 1024)];
        }

        await table.UpsertEntityAsync(row, TableUpdateMode.Replace);
    }

    private static string Escape(string value)
    {
        var sb = new StringBuilder();
        foreach (var c in value)
        {
            if (c is '/' or '\\' or '#' or '?' or '%' or '~' || c < 0x20) sb.Append('%').Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
            else sb.Append(c);
        }

        return sb.ToString();
    }
}
