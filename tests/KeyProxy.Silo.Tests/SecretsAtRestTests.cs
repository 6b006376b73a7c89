using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using KeyProxy.Abstractions;
using KeyProxy.Grains;
using KeyProxy.Silo.Storage;
using KeyProxy.Testing;

namespace KeyProxy.Silo.Tests;

/// <summary>
/// Issue 16 item 4, secrets at rest: the envelope (<see cref="EnvelopeSecrets"/>) over the subscriber rows. A data key
/// per write, each secret AES-256-GCM bound to its row and field, the data key wrapped under a key id; every part
/// tampered with is refused with the row and the reason named (item 6); rotation re-wraps; the settings and
/// Development mode's key (item 5).
/// </summary>
public sealed class SecretsAtRestTests
{
    private static readonly byte[] K1 = RandomNumberGenerator.GetBytes(32), K2 = RandomNumberGenerator.GetBytes(32);
    private static readonly StoredRecordId Alice = new("keyproxy_subscriber_alice@keyproxy.test", "subscriber");
    private static readonly StoredRecordId Bob = new("keyproxy_subscriber_bob@keyproxy.test", "subscriber");
    private static readonly byte[] DeliveryKey = Encoding.UTF8.GetBytes("delivery-key-32-bytes-for-a-test");

    private static KeyEncryptionKeys Ring(string active, params (string Id, byte[] Key)[] keys) =>
        new(active, keys.ToDictionary(k => k.Id, k => k.Key));

    private static SubscriberRowSerializer Serializer(KeyEncryptionKeys keys, bool acceptUnprotected = false) => new(new EnvelopeSecrets(keys, acceptUnprotected));

    private static readonly SubscriberRowSerializer UnderK1 = Serializer(Ring("k1", ("k1", K1)));

    private static SubscriberState FullState()
    {
        var (cert, key) = TestProfiles.SelfSigned();
        var profile = TestProfiles.Valid() with
        {
            Certificate = new IkeCertificateCredential(cert, key),
            PreSharedKeys = [new PeerPsk("192.0.2.0/24", null, Encoding.UTF8.GetBytes("first pre-shared key")), new PeerPsk("198.51.100.0/24", null, Encoding.UTF8.GetBytes("second pre-shared key"))],
        };
        return new SubscriberState { Profile = SubscriberGrain.Normalize(profile, 2), LastVersion = 2, DeliveryKey = DeliveryKey };
    }

    private static string Write(SubscriberRowSerializer serializer, SubscriberState state, StoredRecordId record)
    {
        using var _ = StoredRecordId.Enter(record);
        return serializer.Serialize(state).ToString();
    }

    private static SubscriberState Read(SubscriberRowSerializer serializer, string row, StoredRecordId record)
    {
        using var _ = StoredRecordId.Enter(record);
        return serializer.Deserialize<SubscriberState>(BinaryData.FromString(row))!;
    }

    private static StoredSecretException Refused(SubscriberRowSerializer serializer, string row, StoredRecordId record) =>
        Assert.Throws<StoredSecretException>(() => Read(serializer, row, record));

    [Fact]
    public void A_row_round_trips_and_holds_none_of_its_secrets_in_any_encoding()
    {
        var state = FullState();
        var row = Write(UnderK1, state, Alice);

        var p = state.Profile!;
        var found = SecretEncodings.FoundIn(row, [
            ("secret", SecretEncodings.Of(p.Secret)), ("psk 0", SecretEncodings.Of(p.PreSharedKeys[0].Key)),
            ("psk 1", SecretEncodings.Of(p.PreSharedKeys[1].Key)), ("delivery key", SecretEncodings.Of(DeliveryKey)),
            ("private key", SecretEncodings.OfPem(p.Certificate!.PrivateKeyPem, p.Certificate.CertificatePem))]);
        Assert.True(found.Count == 0, "in the row: " + string.Join(", ", found));
        Assert.DoesNotContain("unprotected:", row);
        Assert.DoesNotContain("PRIVATE KEY", row);

        var json = JsonNode.Parse(row)!;
        Assert.Equal("k1", (string?)json[EnvelopeSecrets.HeaderName]!["KeyId"]);
        Assert.Equal(EnvelopeSecrets.Scheme, (string?)json[EnvelopeSecrets.HeaderName]!["Scheme"]);
        Assert.StartsWith(EnvelopeSecrets.ValuePrefix, (string?)json["Profile"]!["Secret"]);
        Assert.Equal("carol@keyproxy.test", (string?)json["Profile"]!["Nai"]); // the rest stays readable

        var copy = Read(UnderK1, row, Alice);
        Assert.Equal(p.Secret, copy.Profile!.Secret);
        Assert.Equal(p.PreSharedKeys.Select(k => k.Key), copy.Profile.PreSharedKeys.Select(k => k.Key));
        Assert.Equal(p.Certificate, copy.Profile.Certificate);
        Assert.Equal(DeliveryKey, copy.DeliveryKey);
    }

    [Fact]
    public void Every_write_has_its_own_data_key_and_nonces()
    {
        var state = FullState();
        var first = JsonNode.Parse(Write(UnderK1, state, Alice))!;
        var second = JsonNode.Parse(Write(UnderK1, state, Alice))!;
        var other = JsonNode.Parse(Write(UnderK1, state, Bob))!;
        var keys = new[] { first, second, other }.Select(j => (string)j[EnvelopeSecrets.HeaderName]!["DataKey"]!).ToList();
        Assert.Equal(3, keys.Distinct().Count());
        var secrets = new[] { first, second, other }.Select(j => (string)j["Profile"]!["Secret"]!).ToList();
        Assert.Equal(3, secrets.Distinct().Count());
    }

    [Fact]
    public void A_row_without_secrets_gets_no_envelope()
    {
        var row = Write(UnderK1, new SubscriberState { LastVersion = 3 }, Alice);
        Assert.DoesNotContain(EnvelopeSecrets.HeaderName, row);
        Assert.Equal(3, Read(UnderK1, row, Alice).LastVersion);
    }

    /// <summary>One byte of the base64 field's decoded content flipped (a negative index counts from the end: the tag), re-encoded.</summary>
    private static string Flip(string value, string prefix, int index)
    {
        var bytes = Convert.FromBase64String(value[prefix.Length..]);
        bytes[index < 0 ? bytes.Length + index : index % bytes.Length] ^= 0x01;
        return prefix + Convert.ToBase64String(bytes);
    }

    public static TheoryData<string, string> Tampering => new()
    {
        { "secret ciphertext", "$.Profile.Secret does not authenticate under the row's data key" },
        { "secret nonce", "$.Profile.Secret does not authenticate under the row's data key" },
        { "psk tag", "$.Profile.PreSharedKeys[1].Key does not authenticate" },
        { "private key ciphertext", "$.Profile.Certificate.PrivateKeyPem does not authenticate" },
        { "wrapped data key", "its wrapped data key does not authenticate under key 'k1'" },
        { "unknown key id", "its data key is wrapped under key id 'k9', which this silo does not have (configured: k1" },
        { "other key id", "its wrapped data key does not authenticate under key 'k2'" },
        { "scheme", "its SecretsAtRest envelope is in scheme 'aes256gcm-envelope-v0'" },
        { "envelope removed", "$.Profile.Secret is encrypted but the row has no SecretsAtRest envelope" },
        { "secret replaced unprotected", "$.Profile.Secret is unprotected in a row whose secrets are encrypted" },
        { "psks swapped", "$.Profile.PreSharedKeys[0].Key does not authenticate" },
        { "secret and delivery key swapped", "$.Profile.Secret does not authenticate" },
    };

    [Theory]
    [MemberData(nameof(Tampering))]
    public void A_tampered_row_fails_to_load_naming_the_row_and_the_reason(string tamper, string reason)
    {
        var serializer = Serializer(Ring("k1", ("k1", K1), ("k2", K2)));
        var json = JsonNode.Parse(Write(serializer, FullState(), Alice))!.AsObject();
        var envelope = json[EnvelopeSecrets.HeaderName]!.AsObject();
        var profile = json["Profile"]!;
        string Value(JsonNode node) => (string)node!;
        switch (tamper)
        {
            case "secret ciphertext": profile["Secret"] = Flip(Value(profile["Secret"]!), EnvelopeSecrets.ValuePrefix, 12); break;
            case "secret nonce": profile["Secret"] = Flip(Value(profile["Secret"]!), EnvelopeSecrets.ValuePrefix, 0); break;
            case "psk tag": profile["PreSharedKeys"]![1]!["Key"] = Flip(Value(profile["PreSharedKeys"]![1]!["Key"]!), EnvelopeSecrets.ValuePrefix, -1); break;
            case "private key ciphertext": profile["Certificate"]!["PrivateKeyPem"] = Flip(Value(profile["Certificate"]!["PrivateKeyPem"]!), EnvelopeSecrets.ValuePrefix, 40); break;
            case "wrapped data key": envelope["DataKey"] = Flip(Value(envelope["DataKey"]!), "", 20); break;
            case "unknown key id": envelope["KeyId"] = "k9"; break;
            case "other key id": envelope["KeyId"] = "k2"; break;
            case "scheme": envelope["Scheme"] = "aes256gcm-envelope-v0"; break;
            case "envelope removed": json.Remove(EnvelopeSecrets.HeaderName); break;
            case "secret replaced unprotected": profile["Secret"] = UnprotectedSecrets.Encode(Encoding.UTF8.GetBytes("an attacker's secret")); break;
            case "psks swapped":
                var (first, second) = (Value(profile["PreSharedKeys"]![0]!["Key"]!), Value(profile["PreSharedKeys"]![1]!["Key"]!));
                (profile["PreSharedKeys"]![0]!["Key"], profile["PreSharedKeys"]![1]!["Key"]) = (second, first);
                break;
            case "secret and delivery key swapped":
                var (secret, delivery) = (Value(profile["Secret"]!), Value(json["DeliveryKey"]!));
                (profile["Secret"], json["DeliveryKey"]) = (delivery, secret);
                break;
        }

        var e = Refused(serializer, json.ToJsonString(), Alice);
        Assert.Contains(reason, e.Message);
        Assert.StartsWith("stored record 'keyproxy_subscriber_alice@keyproxy.test' / 'subscriber': ", e.Message);
        Assert.EndsWith("the record is not used", e.Message);
        Assert.IsAssignableFrom<JsonException>(e); // what Orleans' provider reports as a row it cannot convert
    }

    [Fact]
    public void A_row_copied_to_another_subscriber_fails_to_load()
    {
        var row = Write(UnderK1, FullState(), Alice);
        var e = Refused(UnderK1, row, Bob);
        Assert.Contains("stored record 'keyproxy_subscriber_bob@keyproxy.test' / 'subscriber': $.Profile.Secret does not authenticate", e.Message);
    }

    [Fact]
    public void A_value_copied_from_another_row_with_its_envelope_fails_to_load()
    {
        var alice = JsonNode.Parse(Write(UnderK1, FullState(), Alice))!;
        var bob = JsonNode.Parse(Write(UnderK1, FullState(), Bob))!;
        bob["Profile"]!["Secret"] = (string)alice["Profile"]!["Secret"]!;
        Assert.Contains("$.Profile.Secret does not authenticate", Refused(UnderK1, bob.ToJsonString(), Bob).Message);
        bob[EnvelopeSecrets.HeaderName] = alice[EnvelopeSecrets.HeaderName]!.DeepClone();
        Assert.Contains("does not authenticate", Refused(UnderK1, bob.ToJsonString(), Bob).Message);
    }

    [Fact]
    public void Rotation_rewraps_the_data_key_under_the_active_key_and_keeps_the_values()
    {
        var state = FullState();
        var before = JsonNode.Parse(Write(UnderK1, state, Alice))!.AsObject();
        var rotating = new EnvelopeSecrets(Ring("k2", ("k1", K1), ("k2", K2)), acceptUnprotected: false);

        var row = (JsonObject)before.DeepClone();
        Assert.Equal(EnvelopeSecrets.RotationOutcome.Rewrapped, rotating.Rotate(row, Alice));
        Assert.Equal("k2", EnvelopeSecrets.KeyIdOf(row));
        Assert.NotEqual((string?)before[EnvelopeSecrets.HeaderName]!["DataKey"], (string?)row[EnvelopeSecrets.HeaderName]!["DataKey"]);
        Assert.Equal((string?)before["Profile"]!["Secret"], (string?)row["Profile"]!["Secret"]); // the values stay: a re-wrap

        // Loads with the new key alone; the old one can go.
        var copy = Read(Serializer(Ring("k2", ("k2", K2))), row.ToJsonString(), Alice);
        Assert.Equal(state.Profile!.Secret, copy.Profile!.Secret);
        Assert.Contains("wrapped under key id 'k1'", Refused(Serializer(Ring("k2", ("k2", K2))), before.ToJsonString(), Alice).Message);

        // Idempotent.
        var again = (JsonObject)row.DeepClone();
        Assert.Equal(EnvelopeSecrets.RotationOutcome.Current, rotating.Rotate(again, Alice));
        Assert.Equal(row.ToJsonString(), again.ToJsonString());
    }

    [Fact]
    public void Rotation_refuses_a_tampered_row_and_leaves_it_as_it_was()
    {
        var row = JsonNode.Parse(Write(UnderK1, FullState(), Alice))!.AsObject();
        row["Profile"]!["PreSharedKeys"]![0]!["Key"] = Flip((string)row["Profile"]!["PreSharedKeys"]![0]!["Key"]!, EnvelopeSecrets.ValuePrefix, 13);
        var text = row.ToJsonString();
        var rotating = new EnvelopeSecrets(Ring("k2", ("k1", K1), ("k2", K2)), acceptUnprotected: false);
        var e = Assert.Throws<StoredSecretException>(() => rotating.Rotate(row, Alice));
        Assert.Contains("$.Profile.PreSharedKeys[0].Key does not authenticate", e.Message);
        Assert.Equal(text, row.ToJsonString());
    }

    [Fact]
    public void A_row_stored_unprotected_is_read_in_Development_refused_in_Production_and_encrypted_by_the_next_write_or_rotation()
    {
        var state = FullState();
        var legacy = new SubscriberRowSerializer(new UnprotectedSecrets()).Serialize(state).ToString();
        Assert.Contains("\"Secret\":\"unprotected:", legacy);

        var development = Serializer(Ring("k1", ("k1", K1)), acceptUnprotected: true);
        var read = Read(development, legacy, Alice);
        Assert.Equal(state.Profile!.Secret, read.Profile!.Secret);
        Assert.Equal("k1", EnvelopeSecrets.KeyIdOf(JsonNode.Parse(Write(development, read, Alice))!.AsObject()));

        Assert.Contains("$.Profile.Secret is stored unprotected, which Production mode refuses", Refused(UnderK1, legacy, Alice).Message);

        var row = JsonNode.Parse(legacy)!.AsObject();
        Assert.Equal(EnvelopeSecrets.RotationOutcome.Encrypted, new EnvelopeSecrets(Ring("k1", ("k1", K1)), false).Rotate(row, Alice));
        Assert.DoesNotContain("unprotected:", row.ToJsonString());
        Assert.Equal(state.Profile.Secret, Read(UnderK1, row.ToJsonString(), Alice).Profile!.Secret);
    }

    [Fact]
    public void A_row_is_bound_to_the_key_the_Azure_provider_stores_it_under()
    {
        var id = StoredRecordId.For("keyproxy", GrainId.Create("subscriber", "alice@keyproxy.test"), "subscriber");
        Assert.Equal(new StoredRecordId("keyproxy_subscriber_alice@keyproxy.test", "subscriber"), id);
        Assert.Equal("svc_a_subscriber_", StoredRecordId.PartitionPrefix("svc/a", "subscriber"));
        Assert.Throws<InvalidOperationException>(() => UnderK1.Serialize(FullState())); // no row in scope: never unbound
    }

    [Fact]
    public void Production_mode_on_Azure_storage_needs_a_key_and_names_the_setting()
    {
        var options = new KeyProxySiloOptions { Clustering = "AzureTable", StorageConnectionString = "UseDevelopmentStorage=true", Mode = "Production" };
        // Cluster TLS is configured (its files are read at start, not here), so the key is the one thing missing.
        options.ClusterTls = new() { CertificatePath = "silo.pem", PrivateKeyPath = "silo.key", CaCertificatePath = "ca.pem" };
        // So are the admin listener's certificate and token keys (issue 16 items 1-2).
        options.AdminHttps = new() { CertificatePath = "admin.pem", PrivateKeyPath = "admin.key" };
        options.AdminAuth = new() { Issuer = "https://idp.example/", Audience = "keyproxy", SigningKeys = ["idp.pem"] };
        Assert.Contains("KeyProxy:SecretsAtRest:ActiveKeyId and KeyProxy:SecretsAtRest:Keys:<id> (or KeyFiles:<id>) are required in Production mode",
            Assert.Single(options.Validate()));
        options.Mode = "Staging";
        Assert.Contains("KeyProxy:Mode is 'Staging'; expected 'Development' or 'Production'", Assert.Single(options.Validate()));
        options.Mode = "Production";
        options.Clustering = "Localhost";
        options.StorageConnectionString = null;
        Assert.Empty(options.Validate()); // in-memory storage: nothing at rest

        var e = Assert.Throws<SiloConfigurationException>(() => KeyProxySiloHost.Build(
            ["--KeyProxy:Mode=Production", "--KeyProxy:Clustering=AzureTable", "--KeyProxy:StorageConnectionString=UseDevelopmentStorage=true"]));
        Assert.Contains("KeyProxy:SecretsAtRest:ActiveKeyId", e.Message);
    }

    [Fact]
    public void Configured_keys_are_checked_and_no_message_repeats_a_key()
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, Convert.ToBase64String(K2) + "\n");
        try
        {
            var options = new SecretsAtRestOptions { ActiveKeyId = "k2", Keys = { ["k1"] = Convert.ToBase64String(K1) }, KeyFiles = { ["k2"] = file } };
            var keys = KeyEncryptionKeys.FromOptions(options, production: true, TextWriter.Null);
            Assert.Equal("k2", keys.ActiveKeyId);
            Assert.Equal(["k1", "k2"], keys.KeyIds.Order());

            var shortKey = Convert.ToBase64String(K1[..16]);
            options = new SecretsAtRestOptions { ActiveKeyId = "k3", Keys = { ["k1"] = shortKey, ["bad id!"] = Convert.ToBase64String(K1) } };
            var e = Assert.Throws<SiloConfigurationException>(() => KeyEncryptionKeys.FromOptions(options, production: true, TextWriter.Null));
            Assert.Contains("key id 'bad id!' is not a key id", e.Message);
            Assert.Contains("KeyProxy:SecretsAtRest:ActiveKeyId 'k3' is not among the configured keys", e.Message);

            options = new SecretsAtRestOptions { ActiveKeyId = "k1", Keys = { ["k1"] = shortKey } };
            e = Assert.Throws<SiloConfigurationException>(() => KeyEncryptionKeys.FromOptions(options, production: true, TextWriter.Null));
            Assert.Contains("KeyProxy:SecretsAtRest:Keys:k1 is not the base64 of 32 bytes", e.Message);
            Assert.DoesNotContain(shortKey, e.Message);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Silos_that_start_together_agree_on_one_development_key()
    {
        var directory = Path.Combine(Directory.CreateTempSubdirectory("keyproxy-devkey-").FullName, "dev");
        try
        {
            var keys = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => DevelopmentKeyFile.LoadOrCreate(directory))));
            Assert.Single(keys.Select(k => k.KeyId).Distinct());
            Assert.Single(keys, k => k.Created);
            Assert.Equal([DevelopmentKeyFile.FileName], Directory.GetFiles(directory).Select(Path.GetFileName).Where(n => n != ".lock"));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(directory)!, recursive: true);
        }
    }

    [Fact]
    public void Development_mode_without_keys_makes_a_local_key_file_0600_says_where_and_reuses_it()
    {
        var directory = Path.Combine(Directory.CreateTempSubdirectory("keyproxy-devkey-").FullName, "dev");
        try
        {
            var notice = new StringWriter();
            var options = new SecretsAtRestOptions { DevelopmentKeyDirectory = directory };
            var first = KeyEncryptionKeys.FromOptions(options, production: false, notice);
            var path = Path.Combine(directory, DevelopmentKeyFile.FileName);
            Assert.Contains($"development key '{first.ActiveKeyId}' in {path} (generated now, mode 0600)", notice.ToString());
            Assert.Matches("^dev-[0-9a-f]{8}$", first.ActiveKeyId);
            Assert.DoesNotContain(File.ReadAllText(path).Trim(), notice.ToString());
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(directory));
            }

            notice = new StringWriter();
            var second = KeyEncryptionKeys.FromOptions(options, production: false, notice);
            Assert.Equal(first.ActiveKeyId, second.ActiveKeyId);
            Assert.Contains("kept from an earlier run", notice.ToString());

            // A row written under the first reads under the second: the same key.
            var row = Write(Serializer(first), FullState(), Alice);
            Assert.Equal(TestProfiles.Secret, Read(Serializer(second), row, Alice).Profile!.Secret);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(directory)!, recursive: true);
        }
    }
}
