using KeyProxy.Abstractions;

namespace KeyProxy.Grains;

/// <summary>
/// What a SubscriberGrain persists: the profile (null once deleted), the current attachment, and the last version
/// handed out, kept across delete so a re-provisioned subscriber never reuses a version an edge may still cache.
/// </summary>
[GenerateSerializer]
public sealed class SubscriberState
{
    [Id(0)] public SubscriberProfile? Profile { get; set; }

    [Id(1)] public Attachment? Attachment { get; set; }

    [Id(2)] public int LastVersion { get; set; }
}
