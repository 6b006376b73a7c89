using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.TestingHost;

namespace KeyProxy.Storage.AzureTable.Tests;

/// <summary>A two-silo Orleans TestCluster whose membership and grain state live in Azurite.</summary>
public sealed class ClusterTests(AzuriteFixture azurite)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public const string StorageName = "AzureTable";
    private const string ConnectionKey = "AzureTableTests:ConnectionString";
    private const string MembershipTableKey = "AzureTableTests:MembershipTable";
    private const string StateTableKey = "AzureTableTests:StateTable";
    private const string NoGossipKey = "AzureTableTests:NoGossip";

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            IConfiguration config = siloBuilder.Configuration;
            siloBuilder
                .UseAzureTableClustering(o =>
                {
                    o.ConnectionString = config[ConnectionKey];
                    o.TableName = config[MembershipTableKey]!;
                })
                .AddAzureTableGrainStorage(StorageName, o =>
                {
                    o.ConnectionString = config[ConnectionKey];
                    o.TableName = config[StateTableKey]!;
                })
                .Configure<ClusterMembershipOptions>(KeyProxyMembershipDefaults.FastFailureDetection);

            // A crashed process tells nobody: in the crash test, silos learn of deaths from probes and the table only.
            if (config[NoGossipKey] == "true")
            {
                siloBuilder.Configure<ClusterMembershipOptions>(o => o.UseLivenessGossip = false);
            }

            // The same table behind a switch that lets a test cut this silo off (see CrashableMembershipTable).
            siloBuilder.Services.AddSingleton<IMembershipTable>(sp => new CrashableMembershipTable(
                new AzureTableMembershipTable(
                    sp.GetRequiredService<IOptions<AzureTableClusteringOptions>>().Value,
                    sp.GetRequiredService<IOptions<ClusterOptions>>().Value.ClusterId),
                CrashableMembershipTable.Key(
                    sp.GetRequiredService<IOptions<ClusterOptions>>().Value.ClusterId,
                    sp.GetRequiredService<IOptions<SiloOptions>>().Value.SiloName)));
        }
    }

    private sealed class ClientConfigurator : IClientBuilderConfigurator
    {
        public void Configure(IConfiguration configuration, IClientBuilder clientBuilder) =>
            clientBuilder.UseAzureTableClustering(o =>
            {
                o.ConnectionString = configuration[ConnectionKey];
                o.TableName = configuration[MembershipTableKey]!;
            });
    }

    private async Task<(TestCluster Cluster, AzureTableClusteringOptions Membership)> Deploy(bool crashTest = false)
    {
        var membership = new AzureTableClusteringOptions
        {
            ConnectionString = azurite.ConnectionString,
            TableName = AzuriteFixture.UniqueTableName("ClusterMembers"),
        };
        var builder = new TestClusterBuilder(2);
        builder.Options.UseTestClusterMembership = false;
        builder.Properties[ConnectionKey] = azurite.ConnectionString;
        builder.Properties[MembershipTableKey] = membership.TableName;
        builder.Properties[StateTableKey] = AzuriteFixture.UniqueTableName("ClusterState");
        builder.Properties[NoGossipKey] = crashTest ? "true" : "false";
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClientConfigurator>();
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return (cluster, membership);
    }

    private static async Task Shutdown(TestCluster cluster)
    {
        await cluster.StopAllSilosAsync();
        await cluster.DisposeAsync();
    }

    [Fact]
    public async Task Both_silos_join_through_the_table_and_state_survives_deactivation_and_silo_restart()
    {
        var (cluster, membership) = await Deploy();
        try
        {
            var table = new AzureTableMembershipTable(membership, cluster.Options.ClusterId);
            await table.InitializeMembershipTableAsync(false, Ct);
            var members = (await table.ReadAllAsync(Ct)).Members;
            Assert.Equal(2, members.Count(m => m.Item1.Status == SiloStatus.Active));

            var grain = cluster.Client.GetGrain<ICounterGrain>("handset-1");
            Assert.Equal(1, await grain.Increment());
            Assert.Equal(2, await grain.Increment());
            Assert.Equal(3, await grain.Increment());

            await grain.Deactivate();
            Assert.Equal(3, await grain.Get());

            SiloAddress host = await grain.Host();
            SiloHandle handle = cluster.Silos.Single(s => s.SiloAddress.Equals(host));
            await cluster.RestartSiloAsync(handle);

            Assert.Equal(3, await grain.Get());
            Assert.Equal(4, await grain.Increment());
        }
        finally
        {
            await Shutdown(cluster);
        }
    }

    [Fact]
    public async Task A_killed_silo_is_declared_dead_in_the_table_within_ten_seconds()
    {
        var (cluster, membership) = await Deploy(crashTest: true);
        try
        {
            var table = new AzureTableMembershipTable(membership, cluster.Options.ClusterId);
            await table.InitializeMembershipTableAsync(false, Ct);
            SiloHandle victim = cluster.Silos[1];
            SiloAddress survivor = cluster.Silos[0].SiloAddress;

            var clock = Stopwatch.StartNew();
            CrashableMembershipTable.Crash(cluster.Options.ClusterId, victim.Name);
            await cluster.KillSiloAsync(victim, TestContext.Current.CancellationToken);

            MembershipEntry? row = null;
            while (clock.Elapsed < TimeSpan.FromSeconds(10))
            {
                row = (await table.ReadRowAsync(victim.SiloAddress, Ct)).Members.Single().Item1;
                if (row.Status == SiloStatus.Dead)
                {
                    break;
                }

                await Task.Delay(200, TestContext.Current.CancellationToken);
            }

            Assert.NotNull(row);
            TestContext.Current.TestOutputHelper?.WriteLine($"killed silo {row.Status} after {clock.Elapsed.TotalSeconds:F1} s");
            Assert.True(row.Status == SiloStatus.Dead, $"silo still {row.Status} after {clock.Elapsed}");
            // Declared dead by the survivor's vote, not by the victim itself.
            Assert.True(
                row.SuspectTimes?.Any(v => v.Item1.Equals(survivor)) == true,
                $"victim {victim.SiloAddress} ({victim.Name}), survivor {survivor}, votes {MembershipColumns.FormatSuspectTimes(row.SuspectTimes)}, silos {string.Join(", ", cluster.Silos.Select(s => s.Name + "=" + s.SiloAddress))}");
            var survivorRow = (await table.ReadRowAsync(survivor, Ct)).Members.Single().Item1;
            Assert.Equal(SiloStatus.Active, survivorRow.Status);
        }
        finally
        {
            await Shutdown(cluster);
        }
    }
}
