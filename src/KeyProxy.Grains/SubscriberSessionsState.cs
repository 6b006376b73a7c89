namespace KeyProxy.Grains;

/// <summary>
/// The durable record of a subscriber's proxy sessions (issue 15): each listed session with the inbound SPIs it installed
/// at the handset, or may install there. A row of its own beside the profile's (state name "sessions"): no secrets in it,
/// and written on the exchange path without rewriting the profile. An SA reaches the handset only after its SPI is in
/// this record, so whoever activates the subscriber next (its reminder, after a silo death that took both the subscriber
/// and the session) audits the session and deletes those SAs if it is gone.
/// </summary>
[GenerateSerializer]
public sealed class SubscriberSessionsState
{
    /// <summary>The sessions as last written; one whose end was not yet written stays until the next write (a delete of its SPIs then is harmless).</summary>
    [Id(0)] public List<ListedSession> Sessions { get; set; } = [];
}
