namespace KeyProxy.Silo.Storage;

/// <summary>
/// Turns key material into the text stored in a grain-state row and back. Every member marked
/// <see cref="KeyProxy.Abstractions.StoredSecretAttribute"/> goes through the one registered instance, so encryption
/// at rest (operators' security issue 16) is a new implementation here and nothing else. The stored text starts with
/// the scheme that wrote it, so a silo reading a row written under another scheme fails loudly instead of guessing.
/// </summary>
public interface IStoredSecretProtector
{
    /// <summary>The stored text for <paramref name="secret"/>, starting with this protector's scheme and a colon.</summary>
    string Protect(ReadOnlySpan<byte> secret);

    /// <summary>The secret back from <paramref name="stored"/>; throws <see cref="System.Text.Json.JsonException"/> for a scheme it cannot read.</summary>
    byte[] Unprotect(string stored);
}
