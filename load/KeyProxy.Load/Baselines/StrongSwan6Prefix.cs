namespace KeyProxy.Load.Baselines;

/// <summary>
/// Where infra/strongswan/build-charon6.sh installs strongSwan 6.0.6: KEYPROXY_STRONGSWAN6_PREFIX, else the user's cache
/// (XDG_CACHE_HOME or ~/.cache)/keyproxy/strongswan-6.0.6, as the script computes it. One definition for the load tool,
/// the benchmarks and the interop tests (linked there).
/// </summary>
public static class StrongSwan6Prefix
{
    public static string Path =>
        Environment.GetEnvironmentVariable("KEYPROXY_STRONGSWAN6_PREFIX") is { Length: > 0 } prefix
            ? prefix
            : System.IO.Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } cache
                ? cache
                : System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "keyproxy", "strongswan-6.0.6");
}
