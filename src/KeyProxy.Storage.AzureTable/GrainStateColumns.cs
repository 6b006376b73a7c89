using Azure.Data.Tables;
using Orleans.Runtime;

namespace KeyProxy.Storage.AzureTable;

/// <summary>
/// Layout of a grain state row: the serialized state split over binary columns Data0, Data1, ... of at most
/// 64 KiB each (Azure's limit per binary property), its total length in DataSize, and a Cleared flag for an
/// emptied state that keeps its row. The whole entity must stay within Azure's 1 MiB and 255 properties.
/// </summary>
internal static class GrainStateColumns
{
    public const string DataPrefix = "Data";
    public const string DataSize = "DataSize";
    public const string Cleared = "Cleared";

    /// <summary>Azure: a binary property holds at most 64 KiB.</summary>
    public const int MaxColumnBytes = 64 * 1024;

    /// <summary>Azure: an entity, keys and properties included, is at most 1 MiB.</summary>
    public const int MaxEntityBytes = 1024 * 1024;

    /// <summary>Azure: 255 properties per entity, PartitionKey, RowKey and Timestamp included.</summary>
    public const int MaxProperties = 255;

    private static readonly string[] ColumnNames = CreateColumnNames();

    /// <summary>Builds the row for <paramref name="data"/>; throws <see cref="GrainStateTooLargeException"/> above Azure's limits.</summary>
    public static TableEntity ToEntity(string partitionKey, string rowKey, ReadOnlyMemory<byte> data, string stateName, GrainId grainId)
    {
        int columns = (data.Length + MaxColumnBytes - 1) / MaxColumnBytes;
        long size = EntitySize(partitionKey, rowKey, data.Length, columns);
        if (size > MaxEntityBytes || columns + 4 > MaxProperties)
        {
            throw new GrainStateTooLargeException(
                $"State '{stateName}' of grain {grainId} serializes to {data.Length} bytes; as an Azure Table entity that is {size} bytes, "
                + $"above Azure's limit of {MaxEntityBytes} bytes per entity. Nothing was written.");
        }

        var entity = new TableEntity(partitionKey, rowKey) { [DataSize] = data.Length };
        for (int i = 0; i < columns; i++)
        {
            int offset = i * MaxColumnBytes;
            entity[ColumnNames[i]] = data.Slice(offset, Math.Min(MaxColumnBytes, data.Length - offset)).ToArray();
        }

        return entity;
    }

    /// <summary>The row of a cleared state that keeps its ETag chain: no data, Cleared = true.</summary>
    public static TableEntity ClearedEntity(string partitionKey, string rowKey) =>
        new(partitionKey, rowKey) { [Cleared] = true, [DataSize] = 0 };

    public static bool IsCleared(TableEntity entity) => entity.GetBoolean(Cleared) == true;

    /// <summary>Joins the data columns back; throws when the row does not hold what DataSize announces.</summary>
    public static byte[] ReadData(TableEntity entity)
    {
        int size = entity.GetInt32(DataSize) ?? throw new GrainStateCorruptException(
            $"Grain state row {entity.PartitionKey}/{entity.RowKey} has no {DataSize} column.");
        if (size < 0 || size > MaxEntityBytes)
        {
            throw new GrainStateCorruptException($"Grain state row {entity.PartitionKey}/{entity.RowKey} announces {size} bytes.");
        }

        var data = new byte[size];
        int offset = 0;
        for (int i = 0; offset < size; i++)
        {
            byte[]? chunk = i < ColumnNames.Length ? entity.GetBinary(ColumnNames[i]) : null;
            if (chunk is null || chunk.Length > size - offset)
            {
                throw new GrainStateCorruptException(
                    $"Grain state row {entity.PartitionKey}/{entity.RowKey}: column {DataPrefix}{i} missing or too long for {size} bytes.");
            }

            chunk.CopyTo(data, offset);
            offset += chunk.Length;
        }

        return data;
    }

    /// <summary>
    /// Azure's entity size: 4 bytes + 2 per key character + per property 8 bytes, 2 per name character and the
    /// value (binary: 4 + length; Int32: 4; Boolean: 1); the Timestamp system property is counted too.
    /// </summary>
    public static long EntitySize(string partitionKey, string rowKey, int dataLength, int columns)
    {
        long size = 4 + 2L * (partitionKey.Length + rowKey.Length);
        size += 8 + 2 * "Timestamp".Length + 8;
        size += 8 + 2 * DataSize.Length + 4;
        for (int i = 0; i < columns; i++)
        {
            size += 8 + 2 * ColumnName(i).Length + 4;
        }

        return size + dataLength;
    }

    private static string ColumnName(int i) => i < ColumnNames.Length ? ColumnNames[i] : DataPrefix + i.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string[] CreateColumnNames()
    {
        var names = new string[MaxEntityBytes / MaxColumnBytes + 1];
        for (int i = 0; i < names.Length; i++)
        {
            names[i] = DataPrefix + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return names;
    }
}
