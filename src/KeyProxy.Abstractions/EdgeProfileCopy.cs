namespace KeyProxy.Abstractions;

/// <summary>
/// The part of a service profile an edge keeps while the handset is attached there (seed: the
/// profile copy the authentication server pushes to the service control device): no secrets.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record EdgeProfileCopy(
    [property: Id(0)] string Nai,
    [property: Id(1)] bool ProxyService,
    [property: Id(2)] IReadOnlyList<ProxyCondition> Conditions,
    [property: Id(3)] int Version)
{
    public static EdgeProfileCopy Of(SubscriberProfile profile) => new(profile.Nai, profile.ProxyService, profile.Conditions, profile.Version);
}
