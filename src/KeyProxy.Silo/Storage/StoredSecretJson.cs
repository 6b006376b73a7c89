using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using KeyProxy.Abstractions;

namespace KeyProxy.Silo.Storage;

/// <summary>
/// The System.Text.Json contract modifier that writes every <see cref="StoredSecretAttribute"/> member as
/// <see cref="UnprotectedSecrets"/>' text (<c>byte[]</c> members as such, <c>string</c> members as their UTF-8 bytes),
/// the form <see cref="IStoredSecretProtector"/> finds and protects in the row's JSON tree before it is stored. A marked
/// member of any other type is refused when its contract is built, so a secret cannot slip into a row unprotected.
/// </summary>
public static class StoredSecretJson
{
    public static Action<JsonTypeInfo> Modifier()
    {
        var bytes = new BytesConverter();
        var text = new TextConverter();
        return info =>
        {
            foreach (var property in info.Properties)
            {
                if (property.AttributeProvider?.IsDefined(typeof(StoredSecretAttribute), inherit: true) != true) continue;
                property.CustomConverter = property.PropertyType == typeof(byte[]) ? bytes
                    : property.PropertyType == typeof(string) ? text
                    : throw new InvalidOperationException(
                        $"{info.Type.Name}.{property.Name} is marked [StoredSecret] but is a {property.PropertyType.Name}; only byte[] and string are supported");
            }
        };
    }

    private sealed class BytesConverter : JsonConverter<byte[]>
    {
        public override byte[] Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            UnprotectedSecrets.Decode(reader.GetString() ?? throw new JsonException("a stored secret is not a string"));

        public override void Write(Utf8JsonWriter writer, byte[] value, JsonSerializerOptions options) =>
            writer.WriteStringValue(UnprotectedSecrets.Encode(value));
    }

    private sealed class TextConverter : JsonConverter<string>
    {
        public override string Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            Encoding.UTF8.GetString(UnprotectedSecrets.Decode(reader.GetString() ?? throw new JsonException("a stored secret is not a string")));

        public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) =>
            writer.WriteStringValue(UnprotectedSecrets.Encode(Encoding.UTF8.GetBytes(value)));
    }
}
