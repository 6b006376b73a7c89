using KeyProxy.Abstractions;
using Orleans.Core.Internal;

namespace KeyProxy.Silo.Tests;

public sealed class SubscriberGrainTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private ISubscriberGrain Subscriber(string nai) => fixture.Grains.GetGrain<ISubscriberGrain>(nai);

    private ISubscriberDirectoryGrain Directory => fixture.Grains.GetGrain<ISubscriberDirectoryGrain>(ISubscriberDirectoryGrain.Key);

    [Fact]
    public async Task Provision_creates_then_replaces_and_bumps_the_version()
    {
        const string nai = "provision@keyproxy.test";
        var grain = Subscriber(nai);
        Assert.Null(await grain.GetProfile());
        Assert.Null(await grain.GetSummary());

        var first = await grain.Provision(TestProfiles.Valid(nai));
        Assert.Equal(ProvisionResult.Stored(created: true, version: 1), first with { Errors = [] });
        Assert.Empty(first.Errors);

        var replacement = TestProfiles.Valid(nai) with { Msisdn = "15559999999", Version = 77 };
        var second = await grain.Provision(replacement);
        Assert.True(second.Succeeded);
        Assert.False(second.Created);
        Assert.Equal(2, second.Version);

        var stored = await grain.GetProfile();
        Assert.NotNull(stored);
        Assert.Equal("15559999999", stored.Msisdn);
        Assert.Equal(2, stored.Version);
        Assert.Equal(TestProfiles.Secret, stored.Secret);

        var summary = await grain.GetSummary();
        Assert.NotNull(summary);
        Assert.Equal(nai, summary.Nai);
        Assert.Equal(2, summary.Version);
        Assert.True(summary.ProxyService);
        Assert.Equal("192.0.2.0/24", Assert.Single(summary.Conditions).PeerPrefix);
        Assert.Equal(new PskPeer("192.0.2.0/24", null), Assert.Single(summary.PreSharedKeyPeers));
        Assert.Null(summary.Attachment);
    }

    [Fact]
    public async Task An_invalid_profile_is_refused_with_every_error_and_not_stored()
    {
        const string nai = "invalid@keyproxy.test";
        var result = await Subscriber(nai).Provision(TestProfiles.Valid(nai) with { Secret = [1], Msisdn = "x" });
        Assert.False(result.Succeeded);
        Assert.Equal(2, result.Errors.Count);
        Assert.Null(await Subscriber(nai).GetProfile());
        Assert.DoesNotContain(nai, (await Directory.List(0, 1000)).Nais);
    }

    [Fact]
    public async Task The_profile_nai_must_be_the_grain_key()
    {
        var result = await Subscriber("key@keyproxy.test").Provision(TestProfiles.Valid("other@keyproxy.test"));
        Assert.False(result.Succeeded);
        Assert.Equal(["nai: 'other@keyproxy.test' is not this subscriber's NAI 'key@keyproxy.test'"], result.Errors);
    }

    [Fact]
    public async Task Delete_removes_the_profile_and_the_directory_entry_and_versions_keep_rising()
    {
        const string nai = "delete@keyproxy.test";
        var grain = Subscriber(nai);
        Assert.False(await grain.Delete());
        Assert.True((await grain.Provision(TestProfiles.Valid(nai))).Succeeded);
        Assert.Contains(nai, (await Directory.List(0, 1000)).Nais);

        Assert.True(await grain.Delete());
        Assert.Null(await grain.GetProfile());
        Assert.Null(await grain.GetSummary());
        Assert.DoesNotContain(nai, (await Directory.List(0, 1000)).Nais);
        Assert.False(await grain.Delete());

        var again = await grain.Provision(TestProfiles.Valid(nai));
        Assert.True(again.Created);
        Assert.Equal(2, again.Version);
    }

    [Fact]
    public async Task The_directory_lists_nais_in_order_in_pages()
    {
        string[] nais = ["list-c@keyproxy.test", "list-a@keyproxy.test", "list-b@keyproxy.test"];
        foreach (var nai in nais)
        {
            Assert.True((await Subscriber(nai).Provision(TestProfiles.Valid(nai))).Succeeded);
        }

        var all = await Directory.List(0, 1000);
        Assert.Equal(all.Total, all.Nais.Count);
        Assert.Equal(all.Nais.Order(StringComparer.Ordinal), all.Nais);
        var first = all.Nais.ToList().IndexOf("list-a@keyproxy.test");
        Assert.Equal(["list-a@keyproxy.test", "list-b@keyproxy.test", "list-c@keyproxy.test"], all.Nais.Skip(first).Take(3));

        var page = await Directory.List(first + 1, 2);
        Assert.Equal(["list-b@keyproxy.test", "list-c@keyproxy.test"], page.Nais);
        Assert.Equal(all.Total, page.Total);
        Assert.Empty((await Directory.List(all.Total, 10)).Nais);
        Assert.Empty((await Directory.List(-5, -1)).Nais);
        Assert.Equal(all.Nais.Take(1), (await Directory.List(-5, 1)).Nais);

        // Adding twice lists once.
        Assert.False(await Directory.Add("list-a@keyproxy.test"));
        Assert.Equal(all.Total, (await Directory.List(0, 1)).Total);
    }

    [Fact]
    public async Task State_survives_deactivation()
    {
        const string nai = "durable@keyproxy.test";
        var grain = Subscriber(nai);
        Assert.True((await grain.Provision(TestProfiles.Valid(nai))).Succeeded);
        Assert.True((await grain.Provision(TestProfiles.Valid(nai) with { Msisdn = "15550000042" })).Succeeded);

        await Deactivate(grain);
        await Deactivate(Directory);

        var profile = await grain.GetProfile();
        Assert.NotNull(profile);
        Assert.Equal("15550000042", profile.Msisdn);
        Assert.Equal(2, profile.Version);
        Assert.Equal(TestProfiles.Secret, profile.Secret);
        Assert.Equal(TestProfiles.Valid(nai).PreSharedKeys[0].Key, profile.PreSharedKeys[0].Key);
        Assert.Contains(nai, (await Directory.List(0, 1000)).Nais);

        // The version counter survived too.
        Assert.Equal(3, (await grain.Provision(TestProfiles.Valid(nai))).Version);
    }

    [Fact]
    public async Task The_session_directory_lists_nothing_and_does_not_fail_on_a_silo_that_runs_no_edge()
    {
        // Issue 17: the directory asks each active silo's edge (by silo name); a silo without one is left out, not an error.
        var sessions = fixture.Grains.GetGrain<ISessionDirectoryGrain>(ISessionDirectoryGrain.Key);
        Assert.Empty(await sessions.List(0, 100));
    }

    [Fact]
    public void Summaries_have_no_place_for_key_material()
    {
        var types = new[] { typeof(SubscriberSummary), typeof(PskPeer), typeof(ProxyCondition), typeof(Attachment) };
        foreach (var type in types)
        {
            foreach (var property in type.GetProperties())
            {
                Assert.NotEqual(typeof(byte[]), property.PropertyType);
                Assert.NotEqual(typeof(PeerPsk), property.PropertyType);
                Assert.NotEqual(typeof(IkeCertificateCredential), property.PropertyType);
                Assert.DoesNotContain("Pem", property.Name);
                Assert.DoesNotContain("Secret", property.Name);
            }
        }
    }

    private async Task Deactivate(IAddressable grain)
    {
        var management = fixture.Grains.GetGrain<IManagementGrain>(0);
        await grain.Cast<IGrainManagementExtension>().DeactivateOnIdle();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (await management.GetGrainActivationCount((GrainReference)grain) > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{grain} was not deactivated");
            await Task.Delay(50);
        }
    }
}
