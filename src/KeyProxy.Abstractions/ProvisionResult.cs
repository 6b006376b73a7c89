namespace KeyProxy.Abstractions;

/// <summary>
/// The outcome of <see cref="ISubscriberGrain.Provision"/>: stored (<see cref="Created"/> tells a new subscriber from a
/// replaced profile, <see cref="Version"/> is the stored version) or refused with every validation error.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ProvisionResult(
    [property: Id(0)] bool Succeeded,
    [property: Id(1)] bool Created,
    [property: Id(2)] int Version,
    [property: Id(3)] IReadOnlyList<string> Errors)
{
    public static ProvisionResult Stored(bool created, int version) => new(true, created, version, []);

    public static ProvisionResult Invalid(IReadOnlyList<string> errors) => new(false, false, 0, errors);
}
