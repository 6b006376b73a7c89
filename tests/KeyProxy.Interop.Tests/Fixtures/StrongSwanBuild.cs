namespace KeyProxy.Interop.Tests.Fixtures;

/// <summary>
/// Which strongSwan a test peer runs: Debian's 5.9.8 (the packages scripts/test.sh installs), or the 6.0.6 that
/// infra/strongswan/build-charon6.sh builds from ../shared/peers into a prefix of its own, for ML-KEM and RFC 9370
/// (issue 19). Both take the same generated strongswan.conf and swanctl.conf; 6 loads its <c>ml</c> plugin as well.
/// </summary>
public sealed record StrongSwanBuild(string Name, string Charon, string Swanctl, string ExtraCharonPlugins)
{
    public static StrongSwanBuild Debian { get; } = new("strongSwan 5.9.8 (Debian)", "/usr/lib/ipsec/charon", "swanctl", "");

    public static StrongSwanBuild Upstream6 { get; } = new("strongSwan 6.0.6 (infra/strongswan/build-charon6.sh)",
        Path.Combine(KeyProxy.Load.Baselines.StrongSwan6Prefix.Path, "libexec", "ipsec", "charon"), Path.Combine(KeyProxy.Load.Baselines.StrongSwan6Prefix.Path, "sbin", "swanctl"), "ml");

    /// <summary>Throws with what to run when this build's charon is not there.</summary>
    public void EnsureInstalled()
    {
        if (!File.Exists(Charon))
            throw new InvalidOperationException(this == Debian
                ? $"{Charon} not found: install strongswan-charon (scripts/test.sh does)"
                : $"{Charon} not found: run infra/strongswan/build-charon6.sh (scripts/test.sh does)");
    }
}
