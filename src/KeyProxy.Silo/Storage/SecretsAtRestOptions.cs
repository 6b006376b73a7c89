using System.Text.RegularExpressions;

namespace KeyProxy.Silo.Storage;

/// <summary>
/// Secrets at rest ("KeyProxy:SecretsAtRest", issue 16 item 4): the key-encryption keys (KEKs) that wrap each subscriber
/// row's data key. Several keys may be configured so rows wrapped under an old key still load while
/// <c>rotate-stored-secrets</c> re-wraps them under <see cref="ActiveKeyId"/>. A key is 32 random bytes (AES-256) in
/// base64, given inline (<see cref="Keys"/>) or as a file holding that base64 (<see cref="KeyFiles"/>, for keys mounted
/// from a secret store). Error messages name the setting, never a key. <see cref="Enabled"/>=false stores them
/// unprotected instead, marked as such (<see cref="UnprotectedSecrets"/>), for measuring what the encryption costs;
/// Production mode refuses it.
/// </summary>
public sealed partial class SecretsAtRestOptions
{
    public const string SectionName = KeyProxySiloOptions.SectionName + ":SecretsAtRest";

    public const string EnabledSetting = SectionName + ":Enabled";

    /// <summary>
    /// Encrypt the secrets of every row written (the default). False: rows are written with their secrets marked
    /// <c>unprotected:</c>, readable by anyone who reads the table, and a row found encrypted is refused (never used or
    /// rewritten); refused at start in Production mode.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The key id new rows are wrapped under; required once any key is configured.</summary>
    public string? ActiveKeyId { get; set; }

    /// <summary>Key id to base64 of a 32-byte key.</summary>
    public Dictionary<string, string> Keys { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Key id to the path of a file holding the base64 of a 32-byte key.</summary>
    public Dictionary<string, string> KeyFiles { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Development mode without configured keys: where the generated local key is kept (a 0700 directory, a 0600 file);
    /// unset: <see cref="DefaultDevelopmentKeyDirectory"/>.
    /// </summary>
    public string? DevelopmentKeyDirectory { get; set; }

    public bool HasConfiguredKeys => Keys.Count > 0 || KeyFiles.Count > 0;

    public static string DefaultDevelopmentKeyDirectory =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".keyproxy", "development");

    /// <summary>Key ids as they appear in rows and in messages: letters, digits, '.', '_' and '-', up to 64.</summary>
    public static bool IsKeyId(string id) => KeyIdPattern().IsMatch(id);

    /// <summary>Problems with these settings for a silo on Azure Table storage (<paramref name="production"/>: Mode=Production).</summary>
    public IReadOnlyList<string> Validate(bool production)
    {
        var errors = new List<string>();
        if (!Enabled)
        {
            // Off: no key is read or made, so none is checked; keys left configured are for switching it back on.
            if (SwitchProblem(production) is { } problem) errors.Add(problem);
            return errors;
        }

        if (!HasConfiguredKeys)
        {
            if (production)
            {
                errors.Add($"{SectionName}:ActiveKeyId and {SectionName}:Keys:<id> (or KeyFiles:<id>) are required in Production mode " +
                    "with Clustering=AzureTable: subscriber secrets, pre-shared keys and private keys are stored encrypted under that key " +
                    "(32 random bytes in base64, e.g. from `openssl rand -base64 32`)");
            }
            else if (ActiveKeyId is not null)
            {
                errors.Add($"{SectionName}:ActiveKeyId is '{ActiveKeyId}' but no key is configured ({SectionName}:Keys:<id> or KeyFiles:<id>)");
            }

            return errors;
        }

        foreach (var id in Keys.Keys.Concat(KeyFiles.Keys).Where(id => !IsKeyId(id)))
        {
            errors.Add($"{SectionName}: key id '{id}' is not a key id (letters, digits, '.', '_', '-', at most 64)");
        }

        foreach (var id in Keys.Keys.Intersect(KeyFiles.Keys, StringComparer.Ordinal))
        {
            errors.Add($"{SectionName}: key id '{id}' is given both in Keys and in KeyFiles; give it once");
        }

        if (string.IsNullOrWhiteSpace(ActiveKeyId))
        {
            errors.Add($"{SectionName}:ActiveKeyId is required when keys are configured; it names the key new rows are wrapped under");
        }
        else if (!Keys.ContainsKey(ActiveKeyId) && !KeyFiles.ContainsKey(ActiveKeyId))
        {
            errors.Add($"{SectionName}:ActiveKeyId '{ActiveKeyId}' is not among the configured keys ({string.Join(", ", Keys.Keys.Concat(KeyFiles.Keys))})");
        }

        return errors;
    }

    /// <summary>Production mode refuses <see cref="Enabled"/>=false, whatever the storage: an operator who wrote it meant to store secrets unprotected.</summary>
    public string? SwitchProblem(bool production) => production && !Enabled
        ? $"{EnabledSetting} is false, which Production mode refuses: subscriber secrets, pre-shared keys and private keys would be stored " +
          $"unprotected; remove the setting (or set it true) and configure {SectionName}:ActiveKeyId and Keys"
        : null;

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex KeyIdPattern();
}
