using KeyProxy.Abstractions;

namespace KeyProxy.Silo;

/// <summary>Provisions <see cref="DemoSubscribers"/> when the silo starts, unless they are already stored.</summary>
internal sealed partial class DemoSubscriberProvisioner(IGrainFactory grains, ILogger<DemoSubscriberProvisioner> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var profile in DemoSubscribers.All)
        {
            var grain = grains.GetGrain<ISubscriberGrain>(profile.Nai);
            if (await grain.GetProfile() is not null)
            {
                continue;
            }

            var result = await grain.Provision(profile);
            if (!result.Succeeded)
            {
                throw new InvalidOperationException($"demo subscriber {profile.Nai} refused: {string.Join("; ", result.Errors)}");
            }

            LogProvisioned(profile.Nai, result.Version);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo subscriber {Nai} provisioned, version {Version}")]
    private partial void LogProvisioned(string nai, int version);
}
