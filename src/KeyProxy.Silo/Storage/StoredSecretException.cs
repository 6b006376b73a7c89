using System.Text.Json;

namespace KeyProxy.Silo.Storage;

/// <summary>
/// A stored row whose secrets cannot be read: tampered, moved from another row, wrapped under a key id this silo does
/// not have, or stored unprotected where that is refused (issue 16 items 4 and 6). The grain state fails to load with this
/// message, naming the row and the reason; no value of the row is used. A <see cref="JsonException"/>, as every other
/// unreadable row of the JSON format.
/// </summary>
public sealed class StoredSecretException(StoredRecordId record, string reason)
    : JsonException($"stored record {record}: {reason}; the record is not used")
{
    public StoredRecordId Record { get; } = record;

    public string Reason { get; } = reason;
}
