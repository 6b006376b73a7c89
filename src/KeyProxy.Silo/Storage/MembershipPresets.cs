using Orleans.Configuration;

namespace KeyProxy.Silo.Storage;

/// <summary>
/// Membership settings the official clustering provider does not choose for us. Orleans' defaults declare a
/// crashed silo dead after about half a minute, right for production on a loaded network and too slow for tests
/// and local clusters, where a kill -9 should show its effect within seconds (<c>KeyProxy:FastFailureDetection</c>).
/// </summary>
public static class MembershipPresets
{
    /// <summary>
    /// Probes time out after 1 s and two misses suspect a silo; IAmAlive is written every 2 s and two missed writes
    /// make a row stale; the table is re-read every 2 s. Too eager for production.
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
