namespace KeyProxy.Abstractions;

/// <summary>
/// One subscriber's master profile (DESIGN: SubscriberGrain), keyed by NAI. Persisted in the grain storage named
/// <see cref="StorageNames.Subscribers"/>. Attach, detach and key transfer are added by the edge work.
/// </summary>
public interface ISubscriberGrain : IGrainWithStringKey
{
    /// <summary>Validates <paramref name="profile"/> (its NAI must be this grain's key), then creates or replaces it and bumps its version.</summary>
    Task<ProvisionResult> Provision(SubscriberProfile profile);

    /// <summary>The full profile, key material included, or null when not provisioned. For silo-side use only.</summary>
    Task<SubscriberProfile?> GetProfile();

    /// <summary>Removes the profile and its attachment; false when there was none.</summary>
    Task<bool> Delete();

    /// <summary>The profile without key material, with the current attachment; null when not provisioned.</summary>
    Task<SubscriberSummary?> GetSummary();
}
