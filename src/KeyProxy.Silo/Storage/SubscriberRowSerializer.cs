using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Options;
using Orleans.Serialization;
using Orleans.Storage;

namespace KeyProxy.Silo.Storage;

/// <summary>
/// The subscribers' grain-state format: JSON through Orleans' own <see cref="SystemTextJsonGrainStorageSerializer"/>,
/// which the Azure Table provider stores as text (<c>UseStringFormat</c>). Chosen over Orleans' binary format so an
/// operator can read and diff a subscriber's row with ordinary Azure tools (Storage Explorer, <c>az storage entity
/// show</c>) when a handset is refused. Enums are written by name for the same reason; key material goes through
/// <see cref="IStoredSecretProtector"/> (<see cref="StoredSecretJson"/>).
/// </summary>
public sealed class SubscriberRowSerializer : IGrainStorageSerializer
{
    /// <summary>
    /// What the provider can hold as text: 15 string columns of 32 Ki characters. Above it the provider cuts the
    /// text silently (it zips the chunks with its 15 column names) and the row no longer parses, so this refuses it first.
    /// </summary>
    public const int MaxChars = 15 * 32 * 1024;

    private readonly SystemTextJsonGrainStorageSerializer _json;

    public SubscriberRowSerializer(IStoredSecretProtector protector)
    {
        var options = new SystemTextJsonGrainStorageSerializerOptions();
        options.JsonSerializerOptions.Converters.Add(new JsonStringEnumConverter());
        options.JsonSerializerOptions.TypeInfoResolver = new DefaultJsonTypeInfoResolver { Modifiers = { StoredSecretJson.Modifier(protector) } };
        _json = new SystemTextJsonGrainStorageSerializer(Options.Create(options));
    }

    public BinaryData Serialize<T>(T? input)
    {
        var data = _json.Serialize(input);
        // UTF-8 JSON: at most one character per byte, so the byte count bounds the text length from above.
        if (data.ToMemory().Length > MaxChars && data.ToString().Length > MaxChars)
        {
            throw new InvalidOperationException(
                $"the {typeof(T).Name} row would be {data.ToString().Length} characters of JSON; Azure Table grain storage holds at most {MaxChars} as text");
        }

        return data;
    }

    public T? Deserialize<T>(BinaryData input) => _json.Deserialize<T>(input);
}
