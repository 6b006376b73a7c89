namespace KeyProxy.Abstractions;

/// <summary>
/// The admin API's listing of live proxy sessions (key <see cref="Key"/>). Nothing is registered here (issue 17: no grain
/// call per session start or end): each edge knows the established sessions it routes IKE for, and a listing asks every
/// active edge silo's edge, then the sessions of the page for their details. Sessions whose edge silo died are not listed
/// (their IKE SAs end by the lease or the peer's liveness check).
/// </summary>
public interface ISessionDirectoryGrain : IGrainWithIntegerKey
{
    /// <summary>The one directory's key.</summary>
    const long Key = 0;

    /// <summary>Established sessions ordered by id, <paramref name="skip"/> first skipped, at most <paramref name="take"/>.</summary>
    Task<IReadOnlyList<ProxySessionInfo>> List(int skip, int take);
}
