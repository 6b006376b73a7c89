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

    /// <summary>The current attachment's delivery key (docs/wire.md, key schedule); null when detached. Never logged.</summary>
    [Id(3)] [StoredSecret] public byte[]? DeliveryKey { get; set; }

    /// <summary>Key transfer counters up to this value may have been used: after a reactivation, counting resumes above it.</summary>
    [Id(4)] public ulong CounterReservedUpTo { get; set; }

    /// <summary>SA deletes of dead proxy sessions not yet delivered to the handset; empty on the exchange path.</summary>
    [Id(5)] public List<PendingSaDelete> PendingSaDeletes { get; set; } = [];

    /// <summary>
    /// Rows written before the session record (<see cref="SubscriberSessionsState"/>) existed: the proxy sessions listed
    /// when the runtime last deactivated this grain. An activation takes them over into the record; never written again.
    /// </summary>
    [Id(6)] public List<ListedSession> ListedSessions { get; set; } = [];
}
