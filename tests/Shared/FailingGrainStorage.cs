using System.Collections.Concurrent;
using Orleans.Serialization;
using Orleans.Storage;

namespace KeyProxy.Testing;

/// <summary>
/// Grain storage in memory whose writes fail while <see cref="FailWrites"/> is set, as a table that is down (or, with
/// <see cref="FailingState"/>, one that refuses one state's rows). Orleans wraps what it throws in an OrleansException,
/// as it does the Azure SDK's.
/// </summary>
internal sealed partial class FailingGrainStorage(DeepCopier copier) : IGrainStorage
{
    /// <summary>Rows by state name and grain (a subscriber has two: its profile and its session record).</summary>
    private readonly ConcurrentDictionary<(string, GrainId), object> _rows = new();

    public volatile bool FailWrites;

    /// <summary>When set, <see cref="FailWrites"/> refuses only this state's rows (a table refusing one row's write, as on its ETag).</summary>
    public string? FailingState { get; set; }

    /// <summary>The writes refused so far.</summary>
    public int WritesRefused => Volatile.Read(ref _writesRefused);

    private int _writesRefused;

    /// <summary>The row as stored, or default when there is none.</summary>
    public T? Stored<T>(string stateName, GrainId grainId) => _rows.TryGetValue((stateName, grainId), out var row) ? copier.Copy((T)row) : default;

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (_rows.TryGetValue((stateName, grainId), out var row))
        {
            grainState.State = copier.Copy((T)row);
            (grainState.ETag, grainState.RecordExists) = ("1", true);
        }
        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (FailWrites && (FailingState is null || FailingState == stateName))
        {
            Interlocked.Increment(ref _writesRefused);
            throw new IOException("the table refused the write (test)");
        }
        _rows[(stateName, grainId)] = copier.Copy(grainState.State)!;
        (grainState.ETag, grainState.RecordExists) = ("1", true);
        return Task.CompletedTask;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        _rows.TryRemove((stateName, grainId), out _);
        (grainState.ETag, grainState.RecordExists) = (null, false);
        return Task.CompletedTask;
    }
}
