using KeyProxy.Load.Chaos;
using KeyProxy.Silo;
using Microsoft.Extensions.Configuration;

namespace KeyProxy.Load.Tests;

/// <summary>
/// The chaos soak's silo settings (issue 15): every one it passes is a setting the silo binds, with the value the soak's
/// bound is computed from (a renamed setting would leave the silos on their defaults and the bound meaningless).
/// </summary>
public class ChaosSettingsTests
{
    [Fact]
    public void The_soak_s_silo_settings_bind_to_the_silo_s_options_with_the_values_of_the_bound()
    {
        var keyProxy = ChaosSettings.SiloEnvironment()
            .Where(e => e.Key.StartsWith("KeyProxy__", StringComparison.Ordinal))
            .ToDictionary(e => e.Key.Replace("__", ":", StringComparison.Ordinal), e => (string?)e.Value);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(keyProxy).Build();

        var options = configuration.GetSection(KeyProxySiloOptions.SectionName).Get<KeyProxySiloOptions>(o => o.ErrorOnUnknownConfiguration = true)!;

        Assert.Equal(ChaosSettings.AuditInterval, options.Network.SessionAuditInterval);
        Assert.Equal(ChaosSettings.ReminderPeriod, options.Network.PendingDeleteRetry);
        Assert.Equal(ChaosSettings.LivenessInterval, options.Network.LivenessInterval);
        Assert.Equal(ChaosSettings.RetransmitTimeout, options.Network.RetransmitTimeout);
        Assert.Equal(ChaosSettings.MaxTransmissions, options.Network.MaxTransmissions);
        Assert.Empty(options.Network.Validate());
    }

    [Fact]
    public void The_bound_is_the_longest_of_the_three_paths()
    {
        // 0.5 + 0.9 + 1.62 + 2.916 + 5.249 s of retransmission (back-off 1.8).
        Assert.InRange(ChaosSettings.RetransmissionSpan.TotalSeconds, 11.18, 11.19);
        Assert.Equal(TimeSpan.FromSeconds(62), ChaosSettings.AuditPath);
        Assert.Equal(TimeSpan.FromSeconds(59), ChaosSettings.DoubleDeathPath);
        Assert.Equal(ChaosSettings.AuditPath, ChaosSettings.OneSidedBound);
        Assert.True(ChaosSettings.LivenessPath < ChaosSettings.OneSidedBound);
    }
}
