using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using KeyProxy.Abstractions;

namespace KeyProxy.Silo.Storage;

/// <summary>
/// The System.Text.Json contract modifier that routes every <see cref="StoredSecretAttribute"/> member through the
/// <see cref="IStoredSecretProtector"/>: <c>byte[]</c> members as the protector's text, <c>string</c> members as the
/// protector's text of their UTF-8 bytes. A marked member of any other type is refused when its contract is built,
/// so a secret cannot slip into a row in the plain.
/// </summary>
public static class StoredSecretJson
{
    public static Action<JsonTypeInfo> Modifier(IStoredSecretProtector protector)
    {
        ArgumentNullException.ThrowIfNull(protector);
        var bytes = new BytesConverter(protector);
        var text = new TextConverter(protector);
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

    private sealed class BytesConverter(IStoredSecretProtector protector) : JsonConverter<byte[]>
    {
        public override byte[] Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            protector.Unprotect(reader.GetString() ?? throw new JsonException("a stored secret is not a string"));

        public override void Write(Utf8JsonWriter writer, byte[] value, JsonSerializerOptions options) =>
            writer.WriteStringValue(protector.Protect(value));
    }

    private sealed class TextConverter(IStoredSecretProtector protector) : JsonConverter<string>
    {
        public override string Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            Encoding.UTF8.GetString(protector.Unprotect(reader.GetString() ?? throw new JsonException("a stored secret is not a string")));

        public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) =>
            writer.WriteStringValue(protector.Protect(Encoding.UTF8.GetBytes(value)));
    }
}
