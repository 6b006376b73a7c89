using System.Security.Cryptography;

namespace KeyProxy.Silo.Storage;

/// <summary>
/// Development mode's key-encryption key when none is configured (issue 16 item 5: the README's run commands keep
/// working with no configuration): 32 random bytes, base64 in <c>secrets-at-rest.key</c> of a directory created 0700,
/// the file 0600, generated on first use and reused after, so every silo of a local cluster on this machine reads the
/// others' rows. Its key id is <c>dev-</c> and 8 hex digits of the key's SHA-256, so a row written under a lost or
/// regenerated file names a key id this silo does not have instead of failing as "tampered". Created under the
/// directory's lock file (<see cref="Security.DirectoryLock"/>), shared with the development CA.
/// </summary>
public static class DevelopmentKeyFile
{
    public const string FileName = "secrets-at-rest.key";

    public sealed record Result(string Path, string KeyId, byte[] Key, bool Created);

    public static Result LoadOrCreate(string directory)
    {
        var path = System.IO.Path.Combine(directory, FileName);
        var created = false;
        try
        {
            if (!File.Exists(path))
            {
                if (OperatingSystem.IsWindows()) Directory.CreateDirectory(directory);
                else Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

                // Under the directory's lock (a rename without overwriting is a check and a rename on Unix, not one
                // step): silos starting together agree on the first key written.
                using var exclusive = Security.DirectoryLock.Acquire(directory);
                if (!File.Exists(path))
                {
                    var temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
                    var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
                    if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                    using (var writer = new StreamWriter(temporary, options))
                    {
                        writer.Write(Convert.ToBase64String(RandomNumberGenerator.GetBytes(KeyEncryptionKeys.KeySize)));
                    }

                    File.Move(temporary, path, overwrite: false);
                    created = true;
                }
            }

            var key = Convert.FromBase64String(File.ReadAllText(path).Trim());
            if (key.Length != KeyEncryptionKeys.KeySize) throw new FormatException($"it holds {key.Length} bytes, not {KeyEncryptionKeys.KeySize}");
            return new Result(path, "dev-" + Convert.ToHexStringLower(SHA256.HashData(key))[..8], key, created);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            throw new SiloConfigurationException([
                $"Development mode's key for secrets at rest, {path}: {e.Message} (set {SecretsAtRestOptions.SectionName}:DevelopmentKeyDirectory, or configure " +
                $"{SecretsAtRestOptions.SectionName}:ActiveKeyId and Keys)"]);
        }
    }
}
