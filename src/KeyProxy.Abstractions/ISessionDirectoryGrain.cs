namespace KeyProxy.Abstractions;

/// <summary>
/// The registry of live proxy sessions (key <see cref="Key"/>). ProxySessionGrains register when their IKE SA is
/// established and unregister when it ends; until then the list is empty. Held in memory: sessions do not outlive
/// their silos, so neither does this list.
/// </summary>
public interface ISessionDirectoryGrain : IGrainWithIntegerKey
{
    /// <summary>The one registry's key.</summary>
    const long Key = 0;

    /// <summary>Adds or replaces the entry for <see cref="ProxySessionInfo.SessionId"/>.</summary>
    Task Register(ProxySessionInfo session);

    /// <summary>Removes the entry; false when there was none.</summary>
    Task<bool> Unregister(string sessionId);

    /// <summary>Sessions ordered by id, <paramref name="skip"/> first skipped, at most <paramref name="take"/>.</summary>
    Task<IReadOnlyList<ProxySessionInfo>> List(int skip, int take);
}
