using KeyProxy.Ike.Crypto;

namespace KeyProxy.Load.Baselines;

/// <summary>
/// The charon a baseline runs: Debian's 5.9.8 with the load-tester plugin build-load-tester.sh adds, or, for a hybrid
/// post-quantum group (ML-KEM, issue 19), the strongSwan 6.0.6 that infra/strongswan/build-charon6.sh builds with its own
/// load-tester and ml plugins.
/// </summary>
public sealed record StrongSwanInstall(string Name, string Charon, string LoadTesterPlugin, string ExtraPlugins, string BuildScript)
{
    public static StrongSwanInstall Debian { get; } = new("strongSwan 5.9.8 (Debian)", "/usr/lib/ipsec/charon",
        "/usr/lib/ipsec/plugins/libstrongswan-load-tester.so", "", "infra/strongswan/build-load-tester.sh");

    public static StrongSwanInstall Upstream6 { get; } = new("strongSwan 6.0.6 (build-charon6.sh)",
        Path.Combine(StrongSwan6Prefix.Path, "libexec", "ipsec", "charon"),
        Path.Combine(StrongSwan6Prefix.Path, "lib", "ipsec", "plugins", "libstrongswan-load-tester.so"), "ml", "infra/strongswan/build-charon6.sh");

    /// <summary>
    /// The charon that can negotiate <paramref name="ikeProposal"/> (strongSwan's notation): strongSwan 6 for one with
    /// an additional key exchange (RFC 9370, 5.9.8 has none), else Debian's.
    /// </summary>
    public static StrongSwanInstall ForProposal(string ikeProposal) =>
        IkeSuiteNames.ParseIke(ikeProposal).AdditionalKeyExchanges.IsEmpty ? Debian : Upstream6;

    /// <summary>Throws with the script to run when charon or its load-tester plugin is missing.</summary>
    public void EnsureLoadTester()
    {
        if (!File.Exists(Charon)) throw new InvalidOperationException($"{Charon} not found: run {BuildScript} ({Name})");
        if (!File.Exists(LoadTesterPlugin)) throw new InvalidOperationException($"{LoadTesterPlugin} is missing: run {BuildScript}");
    }
}
