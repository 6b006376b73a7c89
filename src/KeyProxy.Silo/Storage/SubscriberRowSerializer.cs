using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Orleans.Serialization;
using Orleans.Storage;

namespace KeyProxy.Silo.Storage;

/// <summary>
/// The subscribers' grain-state format: JSON with the options of Orleans' own <see cref="SystemTextJsonGrainStorageSerializer"/>,
/// which the Azure Table provider stores as text (<c>UseStringFormat</c>). Chosen over Orleans' binary format so an
/// operator can read and diff a subscriber's row with ordinary Azure tools (Storage Explorer, <c>az storage entity
/// show</c>) when a handset is refused. Enums are written by name for the same reason. Key material
/// (<see cref="StoredSecretJson"/>) is protected in the row's JSON tree by the <see cref="IStoredSecretProtector"/>
/// (<see cref="EnvelopeSecrets"/>: encrypted), bound to the row <see cref="RecordBoundGrainStorage"/> names.
/// </summary>
public sealed class SubscriberRowSerializer : IGrainStorageSerializer
{
    /// <summary>
    /// What the provider can hold as text: 15 string columns of 32 Ki characters. Above it the provider cuts the
    /// text silently (it zips the chunks with its 15 column names) and the row no longer parses, so this refuses it first.
    /// </summary>
    public const int MaxChars = 15 * 32 * 1024;

    private readonly JsonSerializerOptions _options;
    private readonly IStoredSecretProtector _protector;

    public SubscriberRowSerializer(IStoredSecretProtector protector)
    {
        _protector = protector;
        _options = new SystemTextJsonGrainStorageSerializerOptions().JsonSerializerOptions;
        _options.Converters.Add(new JsonStringEnumConverter());
        _options.TypeInfoResolver = new DefaultJsonTypeInfoResolver { Modifiers = { StoredSecretJson.Modifier() } };
        // The row is read by operators, not browsers: '+' and non-ASCII as themselves.
        _options.Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
    }

    public BinaryData Serialize<T>(T? input)
    {
        var node = JsonSerializer.SerializeToNode(input, _options);
        if (node is JsonObject row) _protector.Protect(row, StoredRecordId.Current);
        var text = node?.ToJsonString(_options) ?? "null";
        if (text.Length > MaxChars)
        {
            throw new InvalidOperationException(
                $"the {typeof(T).Name} row would be {text.Length} characters of JSON; Azure Table grain storage holds at most {MaxChars} as text");
        }

        return BinaryData.FromString(text);
    }

    public T? Deserialize<T>(BinaryData input)
    {
        var node = JsonNode.Parse(input.ToMemory().Span);
        if (node is JsonObject row) _protector.Unprotect(row, StoredRecordId.Current);
        return node is null ? default : node.Deserialize<T>(_options);
    }
}
