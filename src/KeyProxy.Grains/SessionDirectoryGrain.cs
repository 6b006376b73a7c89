using KeyProxy.Abstractions;

namespace KeyProxy.Grains;

/// <summary>
/// The in-memory registry of live proxy sessions (key 0). Kept active so its list lives as long as its silo;
/// ProxySessionGrains register on establishment and unregister when their IKE SA ends.
/// </summary>
[KeepAlive]
public sealed class SessionDirectoryGrain : Grain, ISessionDirectoryGrain
{
    private readonly SortedDictionary<string, ProxySessionInfo> _sessions = new(StringComparer.Ordinal);

    public Task Register(ProxySessionInfo session)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentException.ThrowIfNullOrEmpty(session.SessionId);
        _sessions[session.SessionId] = session;
        return Task.CompletedTask;
    }

    public Task<bool> Unregister(string sessionId) => Task.FromResult(_sessions.Remove(sessionId));

    public Task<IReadOnlyList<ProxySessionInfo>> List(int skip, int take)
    {
        var page = new List<ProxySessionInfo>();
        var index = 0;
        foreach (var session in _sessions.Values)
        {
            if (page.Count >= take)
            {
                break;
            }

            if (index++ >= skip)
            {
                page.Add(session);
            }
        }

        return Task.FromResult<IReadOnlyList<ProxySessionInfo>>(page);
    }
}
