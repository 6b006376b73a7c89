using KeyProxy.AdminAccess;

namespace KeyProxy.Load.Scenarios;

/// <summary>
/// The admin API credentials every HTTP call of the load tool uses (issue 16 item 5): <c>--token</c> and <c>--ca</c> when
/// given (<see cref="Set"/>), else <c>KEYPROXY_TOKEN</c> / <c>KEYPROXY_CA</c>, else the files a Development-mode silo wrote.
/// Read at each use, so a silo started after this process still counts.
/// </summary>
public static class LoadCredentials
{
    private static string? _token, _ca;

    public static AdminCredentials Current => AdminCredentials.Resolve(_token, _ca);

    public static void Set(string? token, string? caPath) => (_token, _ca) = (token, caPath);

    /// <summary>A client of <paramref name="api"/> with <see cref="Current"/>.</summary>
    public static HttpClient Client(Uri api, TimeSpan timeout) => Current.CreateClient(api, timeout);
}
