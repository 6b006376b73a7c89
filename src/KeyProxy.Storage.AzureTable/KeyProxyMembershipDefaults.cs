using Orleans.Configuration;

namespace KeyProxy.Storage.AzureTable;

/// <summary>Membership settings shared by KeyProxy's tests and local multi-silo scripts.</summary>
public static class KeyProxyMembershipDefaults
{
    /// <summary>
    /// Failure detection tuned for tests and local clusters: a crashed silo is declared Dead within a few seconds
    /// instead of Orleans' default of about half a minute. Probes time out after 1 s and two misses suspect a silo;
    /// IAmAlive is written every 2 s and two missed writes make a row stale; the table is re-read every 2 s.
    /// Use as <c>siloBuilder.Configure&lt;ClusterMembershipOptions&gt;(KeyProxyMembershipDefaults.FastFailureDetection)</c>.
    /// Too eager for production on a loaded network.
    /// </summary>
    public static void FastFailureDetection(ClusterMembershipOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ProbeTimeout = TimeSpan.FromSeconds(1);
        options.NumMissedProbesLimit = 2;
        options.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(2);
        options.NumMissedTableIAmAliveLimit = 2;
        options.TableRefreshTimeout = TimeSpan.FromSeconds(2);
        options.DeathVoteExpirationTimeout = TimeSpan.FromSeconds(10);
        options.LocalHealthDegradationMonitoringPeriod = TimeSpan.FromSeconds(5);
        options.MaxJoinAttemptTime = TimeSpan.FromSeconds(30);
    }
}
