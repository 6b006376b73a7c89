using KeyProxy.Abstractions;

namespace KeyProxy.Grains;

/// <summary>
/// The persisted, sorted set of provisioned NAIs (key 0). One activation serialises all changes; each change is one
/// storage write of the whole list, which is fine for the admin API's scale (thousands, not millions).
/// </summary>
public sealed class SubscriberDirectoryGrain(
    [PersistentState("directory", StorageNames.Subscribers)] IPersistentState<SubscriberDirectoryState> state)
    : Grain, ISubscriberDirectoryGrain
{
    public async Task<bool> Add(string nai)
    {
        ArgumentException.ThrowIfNullOrEmpty(nai);
        var nais = state.State.Nais;
        var index = nais.BinarySearch(nai, StringComparer.Ordinal);
        if (index >= 0)
        {
            return false;
        }

        nais.Insert(~index, nai);
        await state.WriteStateAsync();
        return true;
    }

    public async Task<bool> Remove(string nai)
    {
        ArgumentException.ThrowIfNullOrEmpty(nai);
        var nais = state.State.Nais;
        var index = nais.BinarySearch(nai, StringComparer.Ordinal);
        if (index < 0)
        {
            return false;
        }

        nais.RemoveAt(index);
        await state.WriteStateAsync();
        return true;
    }

    public Task<SubscriberPage> List(int skip, int take)
    {
        var nais = state.State.Nais;
        var start = Math.Clamp(skip, 0, nais.Count);
        var count = Math.Clamp(take, 0, nais.Count - start);
        return Task.FromResult(new SubscriberPage(nais.GetRange(start, count), nais.Count));
    }
}
