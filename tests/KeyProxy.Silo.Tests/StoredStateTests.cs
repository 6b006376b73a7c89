using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using KeyProxy.Abstractions;
using KeyProxy.Grains;
using KeyProxy.Silo.Storage;

namespace KeyProxy.Silo.Tests;

/// <summary>
/// The subscriber state in the format the silo stores it in Azure Table storage (issue 14): JSON an operator can read,
/// with every piece of key material through the one <see cref="IStoredSecretProtector"/> (here <see cref="UnprotectedSecrets"/>,
/// which leaves them marked; their encryption is <see cref="SecretsAtRestTests"/>).
/// </summary>
public sealed class StoredStateTests
{
    private static readonly SubscriberRowSerializer Storage = new(new UnprotectedSecrets());

    private static readonly byte[] DeliveryKey = Encoding.UTF8.GetBytes("delivery-key-32-bytes-for-a-test");

    private static SubscriberState FullState()
    {
        var (cert, key) = TestProfiles.SelfSigned();
        var profile = TestProfiles.Valid() with { Certificate = new IkeCertificateCredential(cert, key), TrustedCaPems = [cert] };
        return new SubscriberState
        {
            Profile = SubscriberGrain.Normalize(profile, 4),
            Attachment = new Attachment("edge-a", "127.0.0.42", 7, new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero)),
            LastVersion = 4,
            DeliveryKey = DeliveryKey,
            CounterReservedUpTo = 2048,
            PendingSaDeletes = [new PendingSaDelete(7, "192.0.2.9", [0x1234, 0x5678])],
        };
    }

    [Fact]
    public void A_stored_profile_round_trips_with_its_keys_attachment_and_pending_deletes()
    {
        var state = FullState();
        var copy = Storage.Deserialize<SubscriberState>(Storage.Serialize(state));
        Assert.NotNull(copy);

        Assert.Equal(4, copy.LastVersion);
        Assert.Equal(2048UL, copy.CounterReservedUpTo);
        Assert.Equal(state.Attachment, copy.Attachment);
        Assert.Equal(DeliveryKey, copy.DeliveryKey);
        var owed = Assert.Single(copy.PendingSaDeletes);
        Assert.Equal((7u, "192.0.2.9"), (owed.TunnelId, owed.Peer));
        Assert.Equal([0x1234u, 0x5678u], owed.InboundSpis);
        var stored = copy.Profile!;
        var profile = state.Profile!;
        Assert.Equal(4, stored.Version);
        Assert.Equal(profile.Secret, stored.Secret);
        Assert.Equal(profile.Conditions, stored.Conditions);
        Assert.Equal(profile.PreSharedKeys[0].Key, stored.PreSharedKeys[0].Key);
        Assert.Equal(profile.Certificate, stored.Certificate);
        Assert.Equal(profile.TrustedCaPems, stored.TrustedCaPems);
        Assert.Equal(profile.IkeProposals, stored.IkeProposals);
    }

    [Fact]
    public void The_stored_row_is_JSON_an_operator_reads_with_names_not_numbers()
    {
        var json = JsonNode.Parse(Storage.Serialize(FullState()).ToString())!;
        Assert.Equal("carol@keyproxy.test", (string?)json["Profile"]!["Nai"]);
        Assert.Equal("fqdn:carol.keyproxy.test", (string?)json["Profile"]!["IkeIdentity"]);
        Assert.Equal("Initiator", (string?)json["Profile"]!["Conditions"]![0]!["Roles"]);
        Assert.Equal("edge-a", (string?)json["Attachment"]!["EdgeId"]);
    }

    [Fact]
    public void Every_secret_is_marked_for_the_protector_and_nowhere_else_in_the_row()
    {
        var state = FullState();
        var text = Storage.Serialize(state).ToString();

        // The four kinds of key material: subscriber secret, pre-shared key, certificate private key, delivery key.
        Assert.Equal(4, text.Split("\"unprotected:").Length - 1);
        foreach (var secret in new[] { state.Profile!.Secret, state.Profile.PreSharedKeys[0].Key, DeliveryKey })
        {
            Assert.DoesNotContain(Encoding.UTF8.GetString(secret), text);
        }

        Assert.DoesNotContain("PRIVATE KEY", text);
        Assert.Equal("unprotected:" + Convert.ToBase64String(TestProfiles.Secret), (string)JsonNode.Parse(text)!["Profile"]!["Secret"]!);
        var copy = Storage.Deserialize<SubscriberState>(BinaryData.FromString(text))!;
        Assert.Equal(state.Profile.Certificate!.PrivateKeyPem, copy.Profile!.Certificate!.PrivateKeyPem);
    }

    [Fact]
    public void A_secret_stored_under_a_scheme_this_silo_does_not_know_fails_loudly()
    {
        var json = JsonNode.Parse(Storage.Serialize(FullState()).ToString())!;
        json["Profile"]!["Secret"] = "aesgcm1:key-7:AAAA";
        var e = Assert.Throws<JsonException>(() => Storage.Deserialize<SubscriberState>(BinaryData.FromString(json.ToJsonString())));
        Assert.Contains("scheme 'aesgcm1'", e.Message);
    }

    [Fact]
    public void A_row_too_long_for_the_providers_text_columns_is_refused_before_it_is_cut()
    {
        var state = FullState();
        state.Profile = state.Profile! with { TrustedCaPems = [new string('A', SubscriberRowSerializer.MaxChars)] };
        var e = Assert.Throws<InvalidOperationException>(() => Storage.Serialize(state));
        Assert.Contains("at most 491520", e.Message);
    }

    [Fact]
    public void Normalize_copies_lists_into_arrays_and_sets_the_version()
    {
        var profile = TestProfiles.Valid();
        var stored = SubscriberGrain.Normalize(profile, 9);
        Assert.Equal(9, stored.Version);
        Assert.IsType<ProxyCondition[]>(stored.Conditions);
        Assert.IsType<PeerPsk[]>(stored.PreSharedKeys);
        Assert.IsType<string[]>(stored.IkeProposals);
        Assert.NotSame(profile.Secret, stored.Secret);
        Assert.Equal(profile.Secret, stored.Secret);
    }
}
