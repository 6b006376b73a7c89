namespace KeyProxy.Abstractions;

/// <summary>
/// The persisted set of provisioned NAIs, for listing (key <see cref="Key"/>). Kept by the SubscriberGrain on
/// provision and delete; callers outside the grains only read it.
/// </summary>
public interface ISubscriberDirectoryGrain : IGrainWithIntegerKey
{
    /// <summary>The one directory's key.</summary>
    const long Key = 0;

    /// <summary>Adds <paramref name="nai"/>; false when it was already listed.</summary>
    Task<bool> Add(string nai);

    /// <summary>Removes <paramref name="nai"/>; false when it was not listed.</summary>
    Task<bool> Remove(string nai);

    /// <summary>NAIs in ordinal order, <paramref name="skip"/> first skipped, at most <paramref name="take"/> (negative values count as 0).</summary>
    Task<SubscriberPage> List(int skip, int take);
}
