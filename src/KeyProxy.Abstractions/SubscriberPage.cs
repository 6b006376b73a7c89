namespace KeyProxy.Abstractions;

/// <summary>One page of subscriber NAIs in ordinal order, with the total count.</summary>
[GenerateSerializer, Immutable]
public sealed record SubscriberPage(
    [property: Id(0)] IReadOnlyList<string> Nais,
    [property: Id(1)] int Total);
