using System.Text.Json;
using System.Text.Json.Nodes;

namespace KeyProxy.Silo.Storage;

/// <summary>
/// The text a secret takes inside a row's JSON tree before <see cref="IStoredSecretProtector"/> protects it:
/// <c>unprotected:&lt;base64&gt;</c>. Rows written before issue 16 store exactly this (NO protection: readable by anyone
/// who reads the table); <see cref="EnvelopeSecrets"/> still reads them and the next write, or
/// <c>rotate-stored-secrets</c>, encrypts them. As a protector it changes nothing: tests use it to write such rows.
/// </summary>
public sealed class UnprotectedSecrets : IStoredSecretProtector
{
    public const string Scheme = "unprotected";
    public const string Prefix = Scheme + ":";

    public static string Encode(ReadOnlySpan<byte> secret) => Prefix + Convert.ToBase64String(secret);

    public static bool IsEncoded(string value) => value.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>The secret from <paramref name="stored"/>; a <see cref="JsonException"/> when it is not in this form.</summary>
    public static byte[] Decode(string stored)
    {
        if (!IsEncoded(stored))
        {
            var colon = stored.IndexOf(':', StringComparison.Ordinal);
            throw new JsonException($"a stored secret is in scheme '{(colon > 0 ? stored[..colon] : "(none)")}' where '{Scheme}' was expected");
        }

        try
        {
            return Convert.FromBase64String(stored[Prefix.Length..]);
        }
        catch (FormatException e)
        {
            throw new JsonException($"a stored secret in scheme '{Scheme}' is not base64", e);
        }
    }

    public void Protect(JsonObject row, StoredRecordId? record)
    {
    }

    public void Unprotect(JsonObject row, StoredRecordId? record)
    {
    }
}
