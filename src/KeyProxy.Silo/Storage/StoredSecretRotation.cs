using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;

namespace KeyProxy.Silo.Storage;

/// <summary>
/// <c>KeyProxy.Silo rotate-stored-secrets</c> (issue 16 item 4): every subscriber row of the service re-wrapped under
/// <c>KeyProxy:SecretsAtRest:ActiveKeyId</c>, so an old key-encryption key can then be removed from the settings. Per
/// row, every encrypted value is checked under the row's current key first; then only the wrapped data key changes
/// (<see cref="EnvelopeSecrets.Rotate"/>). Rows still stored unprotected are encrypted. Settings as the silo's; it
/// refuses to run (exit 2) with <c>KeyProxy:SecretsAtRest:Enabled=false</c>.
/// </summary>
/// <remarks>
/// It reads and writes the table directly (the JSON text of <c>StringData</c>.. columns, as Orleans' provider stores it),
/// each row replaced only if unchanged since read (its ETag), so a row a silo writes meanwhile is read again, never
/// overwritten. A row that cannot be read (tampered, unknown key id) is reported and left untouched, and the command
/// exits 1; a second run changes nothing more (idempotent). With silos running, a subscriber grain active while its
/// row is re-wrapped fails its next write once (the ETag moved) and reloads the row.
/// </remarks>
public static class StoredSecretRotation
{
    public const string Command = "rotate-stored-secrets";

    /// <summary>The state name of the subscriber rows (SubscriberGrain's <c>[PersistentState("subscriber", ...)]</c>), their RowKey.</summary>
    public const string SubscriberStateName = "subscriber";

    /// <summary>The grain type of SubscriberGrain, as it starts the grain id in the PartitionKey.</summary>
    public const string SubscriberGrainType = "subscriber";

    private const string TextColumn = "StringData";
    private const int ColumnChars = 32 * 1024;
    private const int Columns = 15;

    /// <summary>Exit codes: 0 every row is under the active key, 1 some rows could not be rotated (listed), 2 bad settings.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output)
    {
        var configuration = new ConfigurationBuilder().AddEnvironmentVariables().AddCommandLine(args).Build();
        KeyProxySiloOptions options;
        EnvelopeSecrets secrets;
        try
        {
            options = configuration.GetSection(KeyProxySiloOptions.SectionName).Get<KeyProxySiloOptions>() ?? new KeyProxySiloOptions();
            options.Clustering = KeyProxySiloOptions.AzureTableClustering; // what Validate checks the connection string against
            var errors = options.Validate();
            if (errors.Count > 0) throw new SiloConfigurationException(errors);
            if (!options.SecretsAtRest.Enabled)
            {
                throw new SiloConfigurationException([$"{Command} refuses to run with {SecretsAtRestOptions.EnabledSetting}=false: it encrypts rows " +
                    $"under {SecretsAtRestOptions.SectionName}:ActiveKeyId, which a silo with that setting refuses to load; " +
                    $"set {SecretsAtRestOptions.EnabledSetting}=true (or remove it) for the command and the silos"]);
            }

            secrets = KeyProxySiloHost.EnvelopeProtector(options, output);
        }
        catch (Exception e) when (e is SiloConfigurationException or InvalidOperationException)
        {
            await output.WriteLineAsync(e.Message);
            return 2;
        }

        var table = new TableServiceClient(options.StorageConnectionString).GetTableClient(AzureStorageSetup.GrainStateTable);
        var result = await RotateAsync(table, options.ServiceId, secrets, output);
        await output.WriteLineAsync($"{Command}: {result.Read} subscriber rows; {result.Rewrapped} re-wrapped under key '{secrets.Keys.ActiveKeyId}', " +
            $"{result.Encrypted} encrypted (were unprotected), {result.Current} already under '{secrets.Keys.ActiveKeyId}', " +
            $"{result.NoSecrets} without secrets, {result.Failed.Count} failed");
        foreach (var failure in result.Failed) await output.WriteLineAsync("  failed: " + failure);
        return result.Failed.Count == 0 ? 0 : 1;
    }

    public sealed record Result(int Read, int Rewrapped, int Encrypted, int Current, int NoSecrets, List<string> Failed);

    public static async Task<Result> RotateAsync(TableClient table, string serviceId, EnvelopeSecrets secrets, TextWriter output)
    {
        var prefix = StoredRecordId.PartitionPrefix(serviceId, SubscriberGrainType);
        var counts = new Dictionary<EnvelopeSecrets.RotationOutcome, int>();
        var failed = new List<string>();
        var read = 0;
        try
        {
            await foreach (var listed in table.QueryAsync<TableEntity>(e => e.RowKey == SubscriberStateName))
            {
                if (!listed.PartitionKey.StartsWith(prefix, StringComparison.Ordinal) || ReadText(listed) is null) continue;
                read++;
                var record = new StoredRecordId(listed.PartitionKey, listed.RowKey);
                try
                {
                    var outcome = await RotateRowAsync(table, listed, record, secrets);
                    counts[outcome] = counts.GetValueOrDefault(outcome) + 1;
                    if (read % 1000 == 0) await output.WriteLineAsync($"  {read} rows");
                }
                catch (Exception e) when (e is JsonException or RequestFailedException or InvalidOperationException)
                {
                    failed.Add($"{record}: {e.Message}");
                }
            }
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            await output.WriteLineAsync($"{Command}: no table {AzureStorageSetup.GrainStateTable}; nothing to rotate");
        }

        return new Result(read, counts.GetValueOrDefault(EnvelopeSecrets.RotationOutcome.Rewrapped), counts.GetValueOrDefault(EnvelopeSecrets.RotationOutcome.Encrypted),
            counts.GetValueOrDefault(EnvelopeSecrets.RotationOutcome.Current), counts.GetValueOrDefault(EnvelopeSecrets.RotationOutcome.NoSecrets), failed);
    }

    /// <summary>One row, tried again (read afresh) when a silo wrote it between our read and our write.</summary>
    private static async Task<EnvelopeSecrets.RotationOutcome> RotateRowAsync(TableClient table, TableEntity row, StoredRecordId record, EnvelopeSecrets secrets)
    {
        for (var attempt = 1; ; attempt++)
        {
            var json = JsonNode.Parse(ReadText(row) ?? "null") as JsonObject
                ?? throw new InvalidOperationException("the row's StringData is not a JSON object");
            var outcome = secrets.Rotate(json, record);
            if (outcome is EnvelopeSecrets.RotationOutcome.NoSecrets or EnvelopeSecrets.RotationOutcome.Current) return outcome;
            try
            {
                await table.UpdateEntityAsync(WithText(row, json.ToJsonString(RowJson)), row.ETag, TableUpdateMode.Replace);
                return outcome;
            }
            catch (RequestFailedException e) when (e.Status == 412 && attempt < 3)
            {
                row = (await table.GetEntityAsync<TableEntity>(row.PartitionKey, row.RowKey)).Value;
            }
        }
    }

    private static readonly JsonSerializerOptions RowJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static IEnumerable<string> ColumnNames() =>
        Enumerable.Range(0, Columns).Select(i => i == 0 ? TextColumn : TextColumn + i.ToString(CultureInfo.InvariantCulture));

    /// <summary>The row's JSON as Orleans' provider joins it (StringData, StringData1, ... StringData14), or null without any.</summary>
    public static string? ReadText(TableEntity row)
    {
        var text = new StringBuilder();
        foreach (var name in ColumnNames())
        {
            if (row.TryGetValue(name, out var value) && value is string { Length: > 0 } chunk) text.Append(chunk);
        }

        return text.Length == 0 ? null : text.ToString();
    }

    /// <summary>A copy of the row with <paramref name="text"/> split over the text columns as the provider splits it.</summary>
    private static TableEntity WithText(TableEntity row, string text)
    {
        if (text.Length > Columns * ColumnChars) throw new InvalidOperationException($"the re-wrapped row would be {text.Length} characters, above {Columns * ColumnChars}");
        var copy = new TableEntity(row.PartitionKey, row.RowKey);
        foreach (var (name, value) in row)
        {
            if (name is "odata.etag" or "PartitionKey" or "RowKey" or "Timestamp" || ColumnNames().Contains(name)) continue;
            copy[name] = value;
        }

        var names = ColumnNames().GetEnumerator();
        for (var offset = 0; offset < text.Length; offset += ColumnChars)
        {
            names.MoveNext();
            copy[names.Current] = text.Substring(offset, Math.Min(ColumnChars, text.Length - offset));
        }

        return copy;
    }
}
