using KeyProxy.Abstractions;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace KeyProxy.Grains;

/// <summary>
/// The admin API's listing of live proxy sessions (key 0). Sessions register nowhere (issue 17: a grain call per
/// session start and end was a tenth of a proxied SA's calls): every edge knows the established sessions it routes IKE
/// for, so a listing asks each active silo's edge (every edge silo is named after its edge, see EdgePlacement), orders
/// the ids, and asks only the sessions of the page for their details.
/// </summary>
public sealed partial class SessionDirectoryGrain(IClusterMembershipService membership, ILogger<SessionDirectoryGrain> logger) : Grain, ISessionDirectoryGrain
{
    /// <summary>An edge or session that does not answer within this is left out of the listing.</summary>
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(5);

    public async Task<IReadOnlyList<ProxySessionInfo>> List(int skip, int take)
    {
        var asks = new List<Task<IReadOnlyList<Guid>>>();
        foreach (var member in membership.CurrentSnapshot.Members.Values)
        {
            if (member.Status == SiloStatus.Active && !string.IsNullOrEmpty(member.Name))
                asks.Add(SessionsAtAsync(member.Name));
        }
        var ids = new List<string>();
        foreach (var sessions in await Task.WhenAll(asks))
            foreach (var id in sessions) ids.Add(id.ToString());
        ids.Sort(StringComparer.Ordinal);

        var page = new List<Task<ProxySessionInfo?>>();
        for (int i = skip; i < ids.Count && page.Count < take; i++) page.Add(InfoAsync(Guid.Parse(ids[i])));
        var list = new List<ProxySessionInfo>(page.Count);
        foreach (var info in await Task.WhenAll(page))
            if (info is not null) list.Add(info); // ended since the edge answered
        return list;
    }

    /// <summary>The established sessions at the edge named <paramref name="edgeId"/>; none when that silo runs no edge.</summary>
    private async Task<IReadOnlyList<Guid>> SessionsAtAsync(string edgeId)
    {
        try { return await GrainFactory.GetGrain<IEdgeGrain>(edgeId).EstablishedSessions().WaitAsync(AskTimeout); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A core silo (no edge of that name, or not even the edge's placement), or one that is going: left out.
            LogNoEdge(edgeId, e.Message);
            return [];
        }
    }

    private async Task<ProxySessionInfo?> InfoAsync(Guid session)
    {
        try { return await GrainFactory.GetGrain<IProxySessionGrain>(session).GetInfo().WaitAsync(AskTimeout); }
        catch (Exception e) when (e is OrleansException or TimeoutException) { return null; }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Session listing: silo {Name} gave no edge's sessions: {Error}")]
    private partial void LogNoEdge(string name, string error);
}
