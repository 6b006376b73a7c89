using System.Text.Json;

namespace KeyProxy.Silo.Storage;

/// <summary>
/// Today's <see cref="IStoredSecretProtector"/>: NO protection. The secret is stored as
/// <c>unprotected:&lt;base64&gt;</c>, readable by anyone who can read the table, exactly as readable as the Orleans
/// binary rows it replaces were. The prefix says so to whoever looks at a row; issue 16 replaces this class.
/// </summary>
public sealed class UnprotectedSecrets : IStoredSecretProtector
{
    public const string Scheme = "unprotected";
    private const string Prefix = Scheme + ":";

    public string Protect(ReadOnlySpan<byte> secret) => Prefix + Convert.ToBase64String(secret);

    public byte[] Unprotect(string stored)
    {
        if (!stored.StartsWith(Prefix, StringComparison.Ordinal))
        {
            var colon = stored.IndexOf(':', StringComparison.Ordinal);
            throw new JsonException($"a stored secret is in scheme '{(colon > 0 ? stored[..colon] : "(none)")}'; this silo reads only '{Scheme}'");
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
}
