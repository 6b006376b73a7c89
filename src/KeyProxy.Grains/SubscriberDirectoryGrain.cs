using KeyProxy.Abstractions;
using Orleans.Concurrency;
using Orleans.Storage;

namespace KeyProxy.Grains;

/// <summary>
/// The persisted, sorted set of provisioned NAIs (key 0). One activation serialises all changes; the list is
/// written whole. Changes are persisted by group commit (reentrant, so concurrent changes can share a write):
/// a write in flight is followed by at most one more, which carries every change made meanwhile. Found by the
/// load tool's bulk provisioning (issue 7): with one whole-list write per change, provisioning slowed as the
/// list grew (O(N) per change, ~90/s at 20,000 subscribers).
/// </summary>
[Reentrant]
public sealed class SubscriberDirectoryGrain(
    [PersistentState("directory", StorageNames.Directory)] IPersistentState<SubscriberDirectoryState> state)
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
        _unwritten.Add((nai, true));
        await PersistAsync();
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
        _unwritten.Add((nai, false));
        await PersistAsync();
        return true;
    }

    // Group commit. Reentrancy only interleaves at awaits, so each change above is applied whole before another starts.
    private Task? _writing; // the write in flight
    private Task? _queued;  // the next write: starts when _writing ends and carries every change made since _writing began

    private Task PersistAsync()
    {
        if (_queued is not null) return _queued;
        if (_writing is null) return _writing = WriteAsync();
        return _queued = WriteAfterAsync(_writing);
    }

    // Issue 15 (HTTP 500 from a fresh cluster): Orleans' grain directory may briefly hold two activations of this grain
    // while silos join (its partitions move between them), and the second one's write of the whole list fails on
    // the first one's ETag (InconsistentStateException, a provisioning PUT answered 500). So a write that loses
    // reads the stored list, applies this activation's unwritten changes to it again and writes once more.
    private readonly List<(string Nai, bool Added)> _unwritten = []; // changes not yet in a write that began
    private const int WriteAttempts = 5;

    private async Task WriteAsync()
    {
        var changes = _unwritten.ToList();
        _unwritten.Clear();
        var stored = false;
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await state.WriteStateAsync();
                    stored = true;
                    return;
                }
                catch (InconsistentStateException) when (attempt < WriteAttempts)
                {
                }
                await state.ReadStateAsync();
                // Also the changes made while this write was in flight: they went into the list just replaced.
                foreach (var (nai, added) in changes.Concat(_unwritten)) Apply(state.State.Nais, nai, added);
            }
        }
        finally
        {
            // Not stored: a later write carries these changes again.
            if (!stored) _unwritten.InsertRange(0, changes);
            _writing = null;
        }
    }

    private static void Apply(List<string> nais, string nai, bool added)
    {
        var index = nais.BinarySearch(nai, StringComparer.Ordinal);
        if (added && index < 0) nais.Insert(~index, nai);
        else if (!added && index >= 0) nais.RemoveAt(index);
    }

    private async Task WriteAfterAsync(Task previous)
    {
        try { await previous; }
        catch (Exception) { /* its callers see that failure; this write stores the list again */ }
        _queued = null;
        _writing = WriteAsync();
        await _writing;
    }

    public Task<SubscriberPage> List(int skip, int take)
    {
        var nais = state.State.Nais;
        var start = Math.Clamp(skip, 0, nais.Count);
        var count = Math.Clamp(take, 0, nais.Count - start);
        return Task.FromResult(new SubscriberPage(nais.GetRange(start, count), nais.Count));
    }
}
