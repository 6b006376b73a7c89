using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace KeyProxy.Cli;

/// <summary>
/// What <c>--json</c> prints: the API's own body, indented. The API returns no secret, key or PEM; as a second line of
/// defence, any member named like one (<see cref="SecretNames"/>) with a value is printed as <c>"[redacted]"</c>.
/// </summary>
public static class JsonOutput
{
    public const string Redacted = "[redacted]";

    /// <summary>Member names (case-insensitive) whose values never reach the output.</summary>
    public static readonly IReadOnlySet<string> SecretNames = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "secret", "key", "keys", "psk", "preSharedKey", "privateKeyPem", "certificatePem", "password", "token",
    };

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Write(TextWriter output, JsonElement json) => output.WriteLine(Redact(JsonNode.Parse(json.GetRawText()))?.ToJsonString(Indented) ?? "null");

    public static void Write<T>(TextWriter output, T value) => Write(output, JsonSerializer.SerializeToElement(value, new JsonSerializerOptions(JsonSerializerDefaults.Web)));

    private static JsonNode? Redact(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var name in o.Select(p => p.Key).ToList())
                {
                    if (SecretNames.Contains(name) && o[name] is not null) o[name] = Redacted;
                    else Redact(o[name]);
                }
                break;
            case JsonArray a:
                foreach (var item in a) Redact(item);
                break;
        }
        return node;
    }
}
