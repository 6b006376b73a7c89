using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using KeyProxy.Abstractions;
using KeyProxy.Grains;
using KeyProxy.Silo.Storage;
using Microsoft.Extensions.Logging;

namespace KeyProxy.Silo.Tests;

/// <summary>
/// <c>KeyProxy:SecretsAtRest:Enabled</c> (issue 16, the cost of encryption at rest measured on against off): off, rows
/// are written marked <c>unprotected:</c>; an encrypted row is refused by a silo with it off, naming the setting; an
/// unprotected row is loaded, counted and logged by a Development silo with it on and refused in Production; the
/// setting is refused in Production mode and by <c>rotate-stored-secrets</c>.
/// </summary>
public sealed class SecretsAtRestSwitchTests
{
    private static readonly byte[] K1 = RandomNumberGenerator.GetBytes(32);
    private static readonly StoredRecordId Alice = new("keyproxy_subscriber_alice@keyproxy.test", "subscriber");
    private static readonly byte[] DeliveryKey = Encoding.UTF8.GetBytes("delivery-key-32-bytes-for-a-test");
    private static readonly SubscriberRowSerializer Off = new(new SecretsAtRestOff());

    private static EnvelopeSecrets Envelope(bool acceptUnprotected) =>
        new(new KeyEncryptionKeys("k1", new Dictionary<string, byte[]> { ["k1"] = K1 }), acceptUnprotected);

    private static SubscriberState State() => new()
    {
        Profile = SubscriberGrain.Normalize(TestProfiles.Valid() with
        {
            PreSharedKeys = [new PeerPsk("192.0.2.0/24", null, Encoding.UTF8.GetBytes("a pre-shared key"))],
        }, 1),
        LastVersion = 1,
        DeliveryKey = DeliveryKey,
    };

    private static string Write(SubscriberRowSerializer serializer, SubscriberState state)
    {
        using var _ = StoredRecordId.Enter(Alice);
        return serializer.Serialize(state).ToString();
    }

    private static SubscriberState Read(SubscriberRowSerializer serializer, string row)
    {
        using var _ = StoredRecordId.Enter(Alice);
        return serializer.Deserialize<SubscriberState>(BinaryData.FromString(row))!;
    }

    [Fact]
    public void Off_writes_every_secret_marked_unprotected_with_no_envelope_and_reads_it_back()
    {
        var state = State();
        var row = Write(Off, state);
        var json = JsonNode.Parse(row)!;
        Assert.Null(json[EnvelopeSecrets.HeaderName]);
        Assert.Equal(UnprotectedSecrets.Encode(state.Profile!.Secret), (string?)json["Profile"]!["Secret"]);
        Assert.Equal(UnprotectedSecrets.Encode(state.Profile.PreSharedKeys[0].Key), (string?)json["Profile"]!["PreSharedKeys"]![0]!["Key"]);
        Assert.Equal(UnprotectedSecrets.Encode(DeliveryKey), (string?)json["DeliveryKey"]);
        Assert.DoesNotContain(EnvelopeSecrets.ValuePrefix, row);

        var copy = Read(Off, row);
        Assert.Equal(state.Profile.Secret, copy.Profile!.Secret);
        Assert.Equal(DeliveryKey, copy.DeliveryKey);
    }

    [Fact]
    public void Off_refuses_an_encrypted_row_naming_the_setting_and_leaves_the_row_as_it_was()
    {
        var encrypted = Write(new SubscriberRowSerializer(Envelope(acceptUnprotected: false)), State());
        var e = Assert.Throws<StoredSecretException>(() => Read(Off, encrypted));
        Assert.Contains("it is encrypted ($.SecretsAtRest) but KeyProxy:SecretsAtRest:Enabled is false on this silo", e.Message);
        Assert.StartsWith("stored record 'keyproxy_subscriber_alice@keyproxy.test' / 'subscriber': ", e.Message);

        // An encrypted value without its envelope is no less encrypted.
        var orphan = JsonNode.Parse(encrypted)!.AsObject();
        orphan.Remove(EnvelopeSecrets.HeaderName);
        e = Assert.Throws<StoredSecretException>(() => Read(Off, orphan.ToJsonString()));
        Assert.Contains("it is encrypted ($.Profile.Secret) but KeyProxy:SecretsAtRest:Enabled is false", e.Message);

        var row = JsonNode.Parse(encrypted)!.AsObject();
        var before = row.ToJsonString();
        Assert.Throws<StoredSecretException>(() => new SecretsAtRestOff().Unprotect(row, Alice));
        Assert.Equal(before, row.ToJsonString()); // nothing rewritten
    }

    [Fact]
    public void On_in_Development_loads_an_unprotected_row_counts_and_logs_it_and_its_next_write_encrypts_it()
    {
        var state = State();
        var unprotected = Write(Off, state);
        var envelope = Envelope(acceptUnprotected: true);
        using var logs = new CapturedLogs();
        envelope.Logger = logs.CreateLogger(nameof(EnvelopeSecrets));
        var serializer = new SubscriberRowSerializer(envelope);

        long loads = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "keyproxy.stored_secrets.unprotected_loads") l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref loads, value));
        listener.Start();

        var read = Read(serializer, unprotected);
        Assert.Equal(state.Profile!.Secret, read.Profile!.Secret);
        Assert.True(Interlocked.Read(ref loads) >= 1, "the load of an unprotected row was not counted");
        var record = Assert.Single(logs.Records);
        Assert.Equal(LogLevel.Warning, record.Level);
        Assert.Contains("'keyproxy_subscriber_alice@keyproxy.test' / 'subscriber'", record.Message);
        Assert.Contains("stored unprotected", record.Message);
        Assert.DoesNotContain(Convert.ToBase64String(state.Profile.Secret), record.Message);

        var rewritten = JsonNode.Parse(Write(serializer, read))!;
        Assert.Equal("k1", EnvelopeSecrets.KeyIdOf(rewritten.AsObject()));
        Assert.DoesNotContain(UnprotectedSecrets.Prefix, rewritten.ToJsonString());

        var production = Assert.Throws<StoredSecretException>(() => Read(new SubscriberRowSerializer(Envelope(acceptUnprotected: false)), unprotected));
        Assert.Contains("$.Profile.Secret is stored unprotected, which Production mode refuses", production.Message);
    }

    [Fact]
    public void Production_mode_refuses_the_switch_off_naming_the_setting_Development_takes_it_without_keys()
    {
        var options = new KeyProxySiloOptions { Clustering = "AzureTable", StorageConnectionString = "UseDevelopmentStorage=true", Mode = "Production" };
        options.ClusterTls = new() { CertificatePath = "silo.pem", PrivateKeyPath = "silo.key", CaCertificatePath = "ca.pem" };
        options.AdminHttps = new() { CertificatePath = "admin.pem", PrivateKeyPath = "admin.key" };
        options.AdminAuth = new() { Issuer = "https://idp.example/", Audience = "keyproxy", SigningKeys = ["idp.pem"] };
        options.SecretsAtRest.Enabled = false;
        Assert.Contains("KeyProxy:SecretsAtRest:Enabled is false, which Production mode refuses", Assert.Single(options.Validate()));

        options.Clustering = "Localhost"; // nothing stored, but the operator asked for secrets in the clear
        options.StorageConnectionString = null;
        Assert.Contains("KeyProxy:SecretsAtRest:Enabled is false, which Production mode refuses", Assert.Single(options.Validate()));

        options.Mode = "Development";
        options.Clustering = "AzureTable";
        options.StorageConnectionString = "UseDevelopmentStorage=true";
        Assert.Empty(options.Validate());
        var notice = new StringWriter();
        Assert.IsType<SecretsAtRestOff>(KeyProxySiloHost.SecretsProtector(options, notice));
        Assert.Contains("Secrets at rest: OFF (KeyProxy:SecretsAtRest:Enabled=false)", notice.ToString());

        options.SecretsAtRest = new SecretsAtRestOptions { ActiveKeyId = "k1", Keys = { ["k1"] = Convert.ToBase64String(K1) } };
        Assert.IsType<EnvelopeSecrets>(KeyProxySiloHost.SecretsProtector(options, TextWriter.Null));
    }

    [Fact]
    public async Task Rotation_refuses_to_run_with_the_switch_off()
    {
        var output = new StringWriter();
        var exit = await StoredSecretRotation.RunAsync(
            ["--KeyProxy:StorageConnectionString=UseDevelopmentStorage=true", "--KeyProxy:SecretsAtRest:Enabled=false"], output);
        Assert.Equal(2, exit);
        Assert.Contains("rotate-stored-secrets refuses to run with KeyProxy:SecretsAtRest:Enabled=false", output.ToString());
    }
}
