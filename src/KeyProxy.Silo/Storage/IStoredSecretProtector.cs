using System.Text.Json.Nodes;

namespace KeyProxy.Silo.Storage;

/// <summary>
/// Protects the key material of one stored row. <see cref="StoredSecretJson"/> writes every member marked
/// <see cref="KeyProxy.Abstractions.StoredSecretAttribute"/> as <see cref="UnprotectedSecrets"/>' text
/// (<c>unprotected:&lt;base64&gt;</c>) into the row's JSON tree; the registered protector then turns those values into
/// what is stored, with whatever the row needs to read them back, and reverses that on read. Silos on Azure Table
/// storage use <see cref="EnvelopeSecrets"/> (issue 16 item 4).
/// </summary>
public interface IStoredSecretProtector
{
    /// <summary>Rewrites, in place, every secret value of <paramref name="row"/> (the row <paramref name="record"/>) into its stored form.</summary>
    void Protect(JsonObject row, StoredRecordId? record);

    /// <summary>
    /// Rewrites, in place, every stored secret of <paramref name="row"/> back to <c>unprotected:&lt;base64&gt;</c>;
    /// throws <see cref="StoredSecretException"/> (a <see cref="System.Text.Json.JsonException"/>) for a row it must not use.
    /// </summary>
    void Unprotect(JsonObject row, StoredRecordId? record);
}
