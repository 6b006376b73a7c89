namespace KeyProxy.Grains;

/// <summary>The directory's persisted NAIs, kept sorted (ordinal) so pages are stable.</summary>
[GenerateSerializer]
public sealed class SubscriberDirectoryState
{
    [Id(0)] public List<string> Nais { get; set; } = [];
}
