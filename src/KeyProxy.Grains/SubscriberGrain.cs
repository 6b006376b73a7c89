using KeyProxy.Abstractions;
using Microsoft.Extensions.Logging;

namespace KeyProxy.Grains;

/// <summary>
/// The master service profile of one subscriber, keyed by NAI (DESIGN: SubscriberGrain; seed: authentication server
/// and service management). Provision validates and stores; the directory grain lists the NAIs. Logs carry NAIs and
/// versions only, never key material.
/// </summary>
public sealed partial class SubscriberGrain(
    [PersistentState("subscriber", StorageNames.Subscribers)] IPersistentState<SubscriberState> state,
    [PersistentState(SubscriberGrain.SessionRecordName, StorageNames.Subscribers)] IPersistentState<SubscriberSessionsState> sessionRecord,
    ILogger<SubscriberGrain> logger,
    Microsoft.Extensions.Options.IOptions<ProxyNetworkOptions> networkOptions) : Grain, ISubscriberGrain
{
    /// <summary>The persisted state, for the attach and key-transfer methods that build on this grain.</summary>
    internal IPersistentState<SubscriberState> State => state;

    /// <summary>The durable record of the handset's proxy sessions and the SAs they installed (SubscriberGrain.Sessions.cs).</summary>
    internal IPersistentState<SubscriberSessionsState> SessionRecord => sessionRecord;

    /// <summary>The state name (and so the table row) of <see cref="SessionRecord"/>, beside the profile's row "subscriber".</summary>
    internal const string SessionRecordName = "sessions";

    private string Nai => this.GetPrimaryKeyString();

    /// <summary>
    /// Writes the subscriber row after a change made in memory first (attach, detach). When the write fails (storage
    /// down, or another activation wrote the row) memory is ahead of storage, and what this activation would do next
    /// rests on a state nobody stored: it makes way, and the next call reads the row as it is (issue 15, the chaos
    /// soak: a detach refused by storage left the attachment cleared in memory only, so the handset's next attach
    /// elsewhere saw no earlier attachment to revoke and the old edge kept its tunnel for good).
    /// </summary>
    private async Task WriteStateOrMakeWayAsync()
    {
        try { await State.WriteStateAsync(); }
        catch
        {
            MakeWay();
            throw;
        }
    }

    /// <summary>This activation's state is not what storage holds: it ends, and the next call reads the rows anew.</summary>
    private void MakeWay()
    {
        _makingWay = true;
        DeactivateOnIdle();
    }

    /// <summary>
    /// Set by <see cref="MakeWay"/>: unlike an explicit DeactivateOnIdle standing for a silo's death, this deactivation
    /// stores the session record on its way out (OnDeactivateAsync).
    /// </summary>
    private bool _makingWay;

    /// <summary>How often the proxy sessions' leases are checked (<see cref="ProxyNetworkOptions.SessionAuditInterval"/>).</summary>
    private TimeSpan? SessionAuditInterval => networkOptions.Value.SessionAuditInterval;

    /// <summary>The period of the pending-deletes reminder (<see cref="ProxyNetworkOptions.PendingDeleteRetry"/>).</summary>
    private TimeSpan PendingDeleteRetry => networkOptions.Value.PendingDeleteRetry;

    private ISubscriberDirectoryGrain Directory => GrainFactory.GetGrain<ISubscriberDirectoryGrain>(ISubscriberDirectoryGrain.Key);

    public async Task<ProvisionResult> Provision(SubscriberProfile profile)
    {
        var errors = SubscriberProfileValidator.Validate(profile);
        if (profile is not null && profile.Nai != Nai)
        {
            errors = [.. errors, $"nai: '{profile.Nai}' is not this subscriber's NAI '{Nai}'"];
        }

        if (errors.Count > 0)
        {
            LogRefused(Nai, errors.Count);
            return ProvisionResult.Invalid(errors);
        }

        var created = state.State.Profile is null;
        var version = state.State.LastVersion + 1;
        state.State.Profile = Normalize(profile!, version);
        state.State.LastVersion = version;
        await state.WriteStateAsync();
        await Directory.Add(Nai);
        LogProvisioned(Nai, created ? "created" : "replaced", version);
        return ProvisionResult.Stored(created, version);
    }

    public Task<SubscriberProfile?> GetProfile() => Task.FromResult(state.State.Profile);

    public async Task<bool> Delete()
    {
        if (state.State.Profile is null)
        {
            return false;
        }

        state.State.Profile = null;
        state.State.Attachment = null;
        await state.WriteStateAsync();
        await Directory.Remove(Nai);
        LogDeleted(Nai, state.State.LastVersion);
        return true;
    }

    public Task<SubscriberSummary?> GetSummary() => Task.FromResult(
        state.State.Profile is { } profile ? SubscriberSummary.Of(profile, state.State.Attachment) : null);

    /// <summary>
    /// The profile as stored: the new version, and plain arrays instead of whatever list types the caller built
    /// (compiler-generated collection-expression types cannot be read back by a type-naming storage serializer).
    /// </summary>
    internal static SubscriberProfile Normalize(SubscriberProfile profile, int version) => profile with
    {
        Version = version,
        Secret = profile.Secret.ToArray(),
        Conditions = profile.Conditions.ToArray(),
        PreSharedKeys = profile.PreSharedKeys.Select(p => p with { Key = p.Key.ToArray() }).ToArray(),
        TrustedCaPems = profile.TrustedCaPems.ToArray(),
        IkeProposals = profile.IkeProposals.ToArray(),
        EspProposals = profile.EspProposals.ToArray(),
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "Subscriber {Nai} {Change}, version {Version}")]
    private partial void LogProvisioned(string nai, string change, int version);

    [LoggerMessage(Level = LogLevel.Information, Message = "Subscriber {Nai} refused: {ErrorCount} validation errors")]
    private partial void LogRefused(string nai, int errorCount);

    [LoggerMessage(Level = LogLevel.Information, Message = "Subscriber {Nai} deleted at version {Version}")]
    private partial void LogDeleted(string nai, int version);
}
