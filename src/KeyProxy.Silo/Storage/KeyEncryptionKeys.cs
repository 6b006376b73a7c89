using System.Security.Cryptography;
using System.Text;

namespace KeyProxy.Silo.Storage;

/// <summary>
/// The key-encryption keys (KEKs) of secrets at rest, by key id, and the one new rows are wrapped under
/// (<see cref="ActiveKeyId"/>). Wrapping is AES-256-GCM (12-byte random nonce, 16-byte tag) of a row's 32-byte data
/// key, with the key id as associated data so a wrapped key cannot be relabelled to another KEK. The keys never leave
/// this class and appear in no message or log.
/// </summary>
public sealed class KeyEncryptionKeys
{
    public const int KeySize = 32;
    private const int NonceSize = 12;
    private const int TagSize = 16;

    /// <summary>The length of a wrapped data key: nonce, encrypted key, tag.</summary>
    public const int WrappedSize = NonceSize + KeySize + TagSize;

    private readonly Dictionary<string, byte[]> _keys;

    public KeyEncryptionKeys(string activeKeyId, IReadOnlyDictionary<string, byte[]> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (!keys.ContainsKey(activeKeyId)) throw new ArgumentException($"the active key id '{activeKeyId}' is not among the keys", nameof(activeKeyId));
        foreach (var (id, key) in keys)
        {
            if (key.Length != KeySize) throw new ArgumentException($"key '{id}' is {key.Length} bytes; a KEK is {KeySize}", nameof(keys));
        }

        ActiveKeyId = activeKeyId;
        _keys = keys.ToDictionary(k => k.Key, k => k.Value.ToArray(), StringComparer.Ordinal);
    }

    public string ActiveKeyId { get; }

    /// <summary>
    /// The keys the settings name (validated first: <see cref="SecretsAtRestOptions.Validate"/>), or in Development mode
    /// without any, the local development key (<see cref="DevelopmentKeyFile"/>), announced on <paramref name="notice"/>.
    /// Throws <see cref="SiloConfigurationException"/> listing every problem; no message contains a key.
    /// </summary>
    public static KeyEncryptionKeys FromOptions(SecretsAtRestOptions options, bool production, TextWriter notice)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate(production).ToList();
        if (errors.Count > 0) throw new SiloConfigurationException(errors);
        if (!options.HasConfiguredKeys)
        {
            var file = DevelopmentKeyFile.LoadOrCreate(options.DevelopmentKeyDirectory ?? SecretsAtRestOptions.DefaultDevelopmentKeyDirectory);
            notice.WriteLine($"KeyProxy secrets at rest: Development mode, subscriber secrets in Azure Table storage are encrypted under the " +
                $"development key '{file.KeyId}' in {file.Path} ({(file.Created ? "generated now" : "kept from an earlier run")}, mode 0600); " +
                $"Production mode (KeyProxy:Mode=Production) refuses to start without {SecretsAtRestOptions.SectionName}:ActiveKeyId and Keys");
            return new KeyEncryptionKeys(file.KeyId, new Dictionary<string, byte[]> { [file.KeyId] = file.Key });
        }

        var keys = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var (id, base64) in options.Keys)
        {
            if (Decode(base64) is { } key) keys[id] = key;
            else errors.Add($"{SecretsAtRestOptions.SectionName}:Keys:{id} is not the base64 of {KeySize} bytes (a 256-bit AES key)");
        }

        foreach (var (id, path) in options.KeyFiles)
        {
            string text;
            try
            {
                text = File.ReadAllText(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                errors.Add($"{SecretsAtRestOptions.SectionName}:KeyFiles:{id}: cannot read '{path}': {e.Message}");
                continue;
            }

            if (Decode(text) is { } key) keys[id] = key;
            else errors.Add($"{SecretsAtRestOptions.SectionName}:KeyFiles:{id}: '{path}' does not hold the base64 of {KeySize} bytes (a 256-bit AES key)");
        }

        return errors.Count > 0 ? throw new SiloConfigurationException(errors) : new KeyEncryptionKeys(options.ActiveKeyId!, keys);
    }

    private static byte[]? Decode(string base64)
    {
        var buffer = new byte[KeySize + 3];
        return Convert.TryFromBase64String(base64.Trim(), buffer, out var written) && written == KeySize ? buffer[..KeySize] : null;
    }

    public IReadOnlyCollection<string> KeyIds => _keys.Keys;

    public bool Contains(string keyId) => _keys.ContainsKey(keyId);

    /// <summary>The data key wrapped under the active KEK.</summary>
    public byte[] Wrap(ReadOnlySpan<byte> dataKey) => Wrap(ActiveKeyId, dataKey);

    private byte[] Wrap(string keyId, ReadOnlySpan<byte> dataKey)
    {
        if (dataKey.Length != KeySize) throw new ArgumentException($"a data key is {KeySize} bytes", nameof(dataKey));
        var wrapped = new byte[WrappedSize];
        RandomNumberGenerator.Fill(wrapped.AsSpan(0, NonceSize));
        using var aes = new AesGcm(_keys[keyId], TagSize);
        aes.Encrypt(wrapped.AsSpan(0, NonceSize), dataKey, wrapped.AsSpan(NonceSize, KeySize), wrapped.AsSpan(NonceSize + KeySize), Associated(keyId));
        return wrapped;
    }

    /// <summary>
    /// The data key from <paramref name="wrapped"/> under KEK <paramref name="keyId"/>, or null with the reason when the
    /// key id is unknown or the wrapped key does not authenticate (tampered, or wrapped under another key of that id).
    /// </summary>
    public byte[]? TryUnwrap(string keyId, ReadOnlySpan<byte> wrapped, out string? reason)
    {
        if (!_keys.TryGetValue(keyId, out var kek))
        {
            reason = $"its data key is wrapped under key id '{keyId}', which this silo does not have " +
                $"(configured: {string.Join(", ", _keys.Keys.Order(StringComparer.Ordinal))}; {SecretsAtRestOptions.SectionName}:Keys)";
            return null;
        }

        if (wrapped.Length != WrappedSize)
        {
            reason = $"its wrapped data key is {wrapped.Length} bytes, not {WrappedSize}";
            return null;
        }

        var dataKey = new byte[KeySize];
        try
        {
            using var aes = new AesGcm(kek, TagSize);
            aes.Decrypt(wrapped[..NonceSize], wrapped.Slice(NonceSize, KeySize), wrapped[(NonceSize + KeySize)..], dataKey, Associated(keyId));
            reason = null;
            return dataKey;
        }
        catch (AuthenticationTagMismatchException)
        {
            reason = $"its wrapped data key does not authenticate under key '{keyId}' (tampered, or a different key under that id)";
            return null;
        }
    }

    private static byte[] Associated(string keyId) => Encoding.UTF8.GetBytes("keyproxy data key v1\0" + keyId);
}
