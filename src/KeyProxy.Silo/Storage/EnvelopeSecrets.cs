using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;

namespace KeyProxy.Silo.Storage;

/// <summary>
/// Envelope encryption of a row's secrets (issue 16 item 4). Each write draws a fresh 256-bit data key for the row;
/// every secret value becomes <c>aes256gcm:&lt;base64 of nonce (12) | ciphertext | tag (16)&gt;</c> under that data key,
/// with associated data binding it to its row (<see cref="StoredRecordId"/>) and to its place in the row (the JSON
/// path, e.g. <c>$.Profile.PreSharedKeys[0].Key</c>), so a value cannot be moved to another row or field. The data
/// key, wrapped under a key-encryption key (<see cref="KeyEncryptionKeys"/>), goes in the row as
/// <c>"SecretsAtRest": { "Scheme", "KeyId", "DataKey" }</c>, so a KEK can be rotated by re-wrapping data keys alone
/// (<see cref="Rotate"/>). Reading checks everything before anything is used: a row that fails is refused whole
/// (<see cref="StoredSecretException"/>). A row stored unprotected (<c>unprotected:</c> values, no envelope: written with
/// <c>KeyProxy:SecretsAtRest:Enabled=false</c> or before issue 16) is loaded when <c>acceptUnprotected</c> (Development
/// mode), counted and logged, and the grain's next write or <c>rotate-stored-secrets</c> encrypts it; Production mode
/// refuses it.
/// </summary>
public sealed partial class EnvelopeSecrets : IStoredSecretProtector
{
    public const string HeaderName = "SecretsAtRest";
    public const string Scheme = "aes256gcm-envelope-v1";
    public const string ValuePrefix = "aes256gcm:";
    private const int NonceSize = 12;
    private const int TagSize = 16;

    private readonly KeyEncryptionKeys keys;
    private readonly bool acceptUnprotected;
    private readonly bool counted;

    public EnvelopeSecrets(KeyEncryptionKeys keys, bool acceptUnprotected)
        : this(keys, acceptUnprotected, counted: true)
    {
    }

    /// <param name="counted">false for <see cref="Rotate"/>'s own checks, which load nothing.</param>
    private EnvelopeSecrets(KeyEncryptionKeys keys, bool acceptUnprotected, bool counted)
    {
        this.keys = keys;
        this.acceptUnprotected = acceptUnprotected;
        this.counted = counted;
    }

    public KeyEncryptionKeys Keys => keys;

    /// <summary>Where loads of unprotected rows are logged; the host sets it once its logging is built.</summary>
    public ILogger Logger { get; set; } = NullLogger.Instance;

    /// <summary>What <see cref="Rotate"/> did to one row.</summary>
    public enum RotationOutcome
    {
        /// <summary>The row holds no secret (a deleted subscriber).</summary>
        NoSecrets,

        /// <summary>Already under the active key; every value checked.</summary>
        Current,

        /// <summary>Its data key re-wrapped under the active key; every value checked.</summary>
        Rewrapped,

        /// <summary>Its secrets were stored unprotected and are now encrypted.</summary>
        Encrypted,
    }

    public void Protect(JsonObject row, StoredRecordId? record)
    {
        ArgumentNullException.ThrowIfNull(row);
        var id = Require(record);
        var values = Secrets(row, UnprotectedSecrets.Prefix);
        if (values.Count == 0) return;

        var dataKey = RandomNumberGenerator.GetBytes(KeyEncryptionKeys.KeySize);
        try
        {
            using var aes = new AesGcm(dataKey, TagSize);
            foreach (var value in values)
            {
                var secret = UnprotectedSecrets.Decode((string)value!);
                value.ReplaceWith(ValuePrefix + Convert.ToBase64String(Seal(aes, secret, Associated(id, value.GetPath()))));
                CryptographicOperations.ZeroMemory(secret);
            }

            row.Insert(0, HeaderName, new JsonObject
            {
                ["Scheme"] = Scheme,
                ["KeyId"] = keys.ActiveKeyId,
                ["DataKey"] = Convert.ToBase64String(keys.Wrap(dataKey)),
            });
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dataKey);
        }
    }

    public void Unprotect(JsonObject row, StoredRecordId? record)
    {
        ArgumentNullException.ThrowIfNull(row);
        var id = Require(record);
        try
        {
            UnprotectRow(row, id);
        }
        catch (StoredSecretException e) when (counted && CountRefused(e))
        {
            throw; // not reached: the filter counts and declines
        }
    }

    private const string UnprotectedRefusal = "which Production mode refuses; rotate-stored-secrets encrypts such rows";

    private static bool CountRefused(StoredSecretException e)
    {
        StoredSecretMetrics.CountRefusedLoad(e.Reason.EndsWith(UnprotectedRefusal, StringComparison.Ordinal) ? "unprotected_in_production" : "unreadable");
        return false;
    }

    private void UnprotectRow(JsonObject row, StoredRecordId id)
    {
        var header = ReadHeader(row, id);
        row.Remove(HeaderName);
        var unprotected = Secrets(row, UnprotectedSecrets.Prefix);
        if (header is null)
        {
            if (Secrets(row, ValuePrefix) is [var orphan, ..])
            {
                throw new StoredSecretException(id, $"{orphan.GetPath()} is encrypted but the row has no {HeaderName} envelope");
            }

            // A row written with encryption at rest off, or before it existed; the grain's next write encrypts it.
            if (unprotected is [var plain, ..])
            {
                if (!acceptUnprotected)
                {
                    throw new StoredSecretException(id, $"{plain.GetPath()} is stored unprotected, {UnprotectedRefusal}");
                }

                if (counted)
                {
                    StoredSecretMetrics.CountUnprotectedLoad();
                    LogUnprotectedLoad(Logger, id.ToString());
                }
            }

            return;
        }

        if (unprotected is [var mixed, ..])
        {
            throw new StoredSecretException(id, $"{mixed.GetPath()} is unprotected in a row whose secrets are encrypted");
        }

        var dataKey = UnwrapDataKey(header.Value, id);
        try
        {
            using var aes = new AesGcm(dataKey, TagSize);
            // Every value is opened before any is replaced: a row with one bad value is refused whole.
            var opened = Secrets(row, ValuePrefix).Select(value => (value, secret: Open(aes, value, id))).ToList();
            foreach (var (value, secret) in opened)
            {
                value.ReplaceWith(UnprotectedSecrets.Encode(secret));
                CryptographicOperations.ZeroMemory(secret);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dataKey);
        }
    }

    /// <summary>
    /// <c>rotate-stored-secrets</c> on one row: checks every value, then re-wraps the row's data key under the active
    /// key (the values stay as they are), or encrypts a row stored unprotected. Throws <see cref="StoredSecretException"/>,
    /// leaving <paramref name="row"/> as it was, for a row that cannot be read.
    /// </summary>
    public RotationOutcome Rotate(JsonObject row, StoredRecordId record)
    {
        ArgumentNullException.ThrowIfNull(row);
        if (ReadHeader(row, record) is not { } header)
        {
            var check = (JsonObject)row.DeepClone();
            new EnvelopeSecrets(keys, acceptUnprotected: true, counted: false).Unprotect(check, record); // refuses orphaned encrypted values
            if (Secrets(row, UnprotectedSecrets.Prefix).Count == 0) return RotationOutcome.NoSecrets;
            Protect(row, record);
            return RotationOutcome.Encrypted;
        }

        // The whole row must read under its current key before its data key moves to another.
        new EnvelopeSecrets(keys, acceptUnprotected: false, counted: false).Unprotect((JsonObject)row.DeepClone(), record);
        if (header.KeyId == keys.ActiveKeyId) return RotationOutcome.Current;

        var dataKey = UnwrapDataKey(header, record);
        try
        {
            var envelope = row[HeaderName]!.AsObject();
            envelope["KeyId"] = keys.ActiveKeyId;
            envelope["DataKey"] = Convert.ToBase64String(keys.Wrap(dataKey));
            return RotationOutcome.Rewrapped;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dataKey);
        }
    }

    /// <summary>The key id a stored row's data key is wrapped under, or null for a row without an envelope.</summary>
    public static string? KeyIdOf(JsonObject row) => row[HeaderName] is JsonObject h && h["KeyId"] is JsonValue v && v.TryGetValue<string>(out var id) ? id : null;

    private readonly record struct Header(string KeyId, string DataKey);

    private static Header? ReadHeader(JsonObject row, StoredRecordId id)
    {
        if (!row.TryGetPropertyValue(HeaderName, out var node)) return null;
        if (node is not JsonObject header
            || Text(header, "Scheme") is not { } scheme
            || Text(header, "KeyId") is not { } keyId
            || Text(header, "DataKey") is not { } dataKey)
        {
            throw new StoredSecretException(id, $"its {HeaderName} envelope is not an object with Scheme, KeyId and DataKey strings");
        }

        return scheme == Scheme
            ? new Header(keyId, dataKey)
            : throw new StoredSecretException(id, $"its {HeaderName} envelope is in scheme '{scheme}'; this silo reads '{Scheme}'");
    }

    private static string? Text(JsonObject header, string name) =>
        header[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    private byte[] UnwrapDataKey(Header header, StoredRecordId id)
    {
        byte[] wrapped;
        try
        {
            wrapped = Convert.FromBase64String(header.DataKey);
        }
        catch (FormatException)
        {
            throw new StoredSecretException(id, $"its wrapped data key ({HeaderName}.DataKey) is not base64");
        }

        return keys.TryUnwrap(header.KeyId, wrapped, out var reason) ?? throw new StoredSecretException(id, reason!);
    }

    private static byte[] Seal(AesGcm aes, ReadOnlySpan<byte> secret, byte[] associated)
    {
        var sealedValue = new byte[NonceSize + secret.Length + TagSize];
        RandomNumberGenerator.Fill(sealedValue.AsSpan(0, NonceSize));
        aes.Encrypt(sealedValue.AsSpan(0, NonceSize), secret, sealedValue.AsSpan(NonceSize, secret.Length), sealedValue.AsSpan(NonceSize + secret.Length), associated);
        return sealedValue;
    }

    private static byte[] Open(AesGcm aes, JsonValue value, StoredRecordId id)
    {
        var path = value.GetPath();
        byte[] sealedValue;
        try
        {
            sealedValue = Convert.FromBase64String(((string)value!)[ValuePrefix.Length..]);
        }
        catch (FormatException)
        {
            throw new StoredSecretException(id, $"{path} is not base64 after '{ValuePrefix}'");
        }

        if (sealedValue.Length < NonceSize + TagSize) throw new StoredSecretException(id, $"{path} is too short to be an encrypted value");
        var secret = new byte[sealedValue.Length - NonceSize - TagSize];
        try
        {
            aes.Decrypt(sealedValue.AsSpan(0, NonceSize), sealedValue.AsSpan(NonceSize, secret.Length), sealedValue.AsSpan(NonceSize + secret.Length), secret,
                Associated(id, path));
            return secret;
        }
        catch (AuthenticationTagMismatchException)
        {
            throw new StoredSecretException(id, $"{path} does not authenticate under the row's data key (tampered, or moved from another row or field)");
        }
    }

    /// <summary>Binds a value to its row and its JSON path.</summary>
    private static byte[] Associated(StoredRecordId id, string path) =>
        Encoding.UTF8.GetBytes($"keyproxy secret v1\0{id.PartitionKey}\0{id.RowKey}\0{path}");

    private static StoredRecordId Require(StoredRecordId? record) => record ??
        throw new InvalidOperationException("no stored row in scope: subscriber rows are read and written through RecordBoundGrainStorage");

    [LoggerMessage(EventId = 1701, Level = LogLevel.Warning,
        Message = "Stored record {Record}: its secrets are stored unprotected (written with KeyProxy:SecretsAtRest:Enabled=false or before encryption at rest); loaded, and its next write or rotate-stored-secrets encrypts them")]
    private static partial void LogUnprotectedLoad(ILogger logger, string record);

    /// <summary>Every string value of the tree starting with <paramref name="prefix"/>, in document order.</summary>
    internal static List<JsonValue> ValuesStartingWith(JsonNode root, string prefix) => Secrets(root, prefix);

    private static List<JsonValue> Secrets(JsonNode root, string prefix)
    {
        var found = new List<JsonValue>();
        Walk(root);
        return found;

        void Walk(JsonNode? node)
        {
            switch (node)
            {
                case JsonObject o:
                    foreach (var (_, child) in o) Walk(child);
                    break;
                case JsonArray a:
                    foreach (var child in a) Walk(child);
                    break;
                case JsonValue v when v.TryGetValue<string>(out var s) && s.StartsWith(prefix, StringComparison.Ordinal):
                    found.Add(v);
                    break;
            }
        }
    }
}
