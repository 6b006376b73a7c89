namespace KeyProxy.Silo.Storage;

/// <summary>
/// Which table row a grain state is stored in: Orleans' Azure Table provider keys a row by
/// <c>SanitizeTableProperty($"{serviceId}_{grainId}")</c> and <c>SanitizeTableProperty(stateName)</c> (its
/// AzureTableGrainStorage.GetKeyString and AzureTableUtils.SanitizeTableProperty, replicated here). The encrypted
/// secrets of a row are bound to these two keys, so a row copied or moved to another grain's place fails to load; and
/// <c>rotate-stored-secrets</c>, which reads rows without Orleans, computes the same binding from the row itself.
/// </summary>
public readonly record struct StoredRecordId(string PartitionKey, string RowKey)
{
    private static readonly AsyncLocal<StoredRecordId?> Ambient = new();

    /// <summary>The row being read or written on this flow (set by <see cref="RecordBoundGrainStorage"/>), or null.</summary>
    public static StoredRecordId? Current => Ambient.Value;

    public static StoredRecordId For(string serviceId, GrainId grainId, string stateName) =>
        new(Sanitize($"{serviceId}_{grainId}"), Sanitize(stateName));

    /// <summary>How the PartitionKey of every row of grains of type <paramref name="grainType"/> starts (grain ids print as "type/key").</summary>
    public static string PartitionPrefix(string serviceId, string grainType) => Sanitize($"{serviceId}_{grainType}/");

    /// <summary>Makes <paramref name="record"/> <see cref="Current"/> until disposed.</summary>
    public static Scope Enter(StoredRecordId record)
    {
        var previous = Ambient.Value;
        Ambient.Value = record;
        return new Scope(previous);
    }

    public override string ToString() => $"'{PartitionKey}' / '{RowKey}'";

    private static string Sanitize(string key) => key.Replace('/', '_').Replace('\\', '_').Replace('#', '_').Replace('?', '_');

    public readonly struct Scope(StoredRecordId? previous) : IDisposable
    {
        public void Dispose() => Ambient.Value = previous;
    }
}
