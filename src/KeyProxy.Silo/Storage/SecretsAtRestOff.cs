using System.Text.Json.Nodes;

namespace KeyProxy.Silo.Storage;

/// <summary>
/// The protector of a silo with <c>KeyProxy:SecretsAtRest:Enabled=false</c>: rows are written with every secret in
/// <see cref="UnprotectedSecrets"/>' marked form (<c>unprotected:&lt;base64&gt;</c>) and no envelope, so a row's state
/// is plain from the row itself. A row that is encrypted (an envelope, or any value in <see cref="EnvelopeSecrets"/>'
/// form) is refused whole with <see cref="StoredSecretException"/> naming the setting: this silo has no key to read
/// it, and loading it without its secrets, or writing over it, would lose them.
/// </summary>
public sealed class SecretsAtRestOff : IStoredSecretProtector
{
    public void Protect(JsonObject row, StoredRecordId? record)
    {
        // The serializer already wrote every secret as unprotected:<base64>; that marker is what is stored.
    }

    public void Unprotect(JsonObject row, StoredRecordId? record)
    {
        ArgumentNullException.ThrowIfNull(row);
        var encrypted = row.ContainsKey(EnvelopeSecrets.HeaderName)
            ? "$." + EnvelopeSecrets.HeaderName
            : EnvelopeSecrets.ValuesStartingWith(row, EnvelopeSecrets.ValuePrefix) is [var value, ..] ? value.GetPath() : null;
        if (encrypted is null) return;

        StoredSecretMetrics.CountRefusedLoad("encrypted_while_off");
        var id = record ?? throw new InvalidOperationException("no stored row in scope: subscriber rows are read and written through RecordBoundGrainStorage");
        throw new StoredSecretException(id, $"it is encrypted ({encrypted}) but {SecretsAtRestOptions.EnabledSetting} is false on this silo, " +
            $"which has no key to read it; set {SecretsAtRestOptions.EnabledSetting}=true with the key it is wrapped under");
    }
}
