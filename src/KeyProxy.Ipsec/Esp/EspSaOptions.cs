using KeyProxy.Ike.Protocol;

namespace KeyProxy.Ipsec.Esp;

/// <summary>Data-plane settings that an IKE <see cref="ChildSa"/> does not carry.</summary>
public sealed record EspSaOptions
{
    public static EspSaOptions Default { get; } = new();

    public int ReplayWindowSize { get; init; } = ReplayWindow.DefaultSize;

    /// <summary>Byte and packet limits (and time limits when the CHILD_SA has none); the CHILD_SA's RekeyAfter / ExpireAfter win for time.</summary>
    public SaLifetime Lifetime { get; init; } = SaLifetime.Unlimited;

    public IRandomSource Random { get; init; } = SecureRandomSource.Instance;
}
