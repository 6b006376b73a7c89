using KeyProxy.Handset;
using KeyProxy.Handset.Cli;

namespace KeyProxy.Interop.Tests.Fixtures;

/// <summary>
/// Every event of one <see cref="UdpHandsetHost"/>, kept: a test can wait for the event that
/// matches a condition without consuming the others (an SA lifecycle produces installs and
/// removals in an order that depends on the race between both IKE ends). Owns the host's
/// <see cref="UdpHandsetHost.Events"/> reader: do not also call <c>WaitForAsync</c>.
/// </summary>
public sealed class HandsetEventLog
{
    private readonly List<HandsetEvent> _events = [];
    private readonly Lock _gate = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public HandsetEventLog(UdpHandsetHost handset) => _ = Task.Run(async () =>
    {
        try
        {
            await foreach (var e in handset.Events.ReadAllAsync())
            {
                TaskCompletionSource changed;
                lock (_gate)
                {
                    _events.Add(e);
                    changed = _changed;
                    _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
                }
                changed.TrySetResult();
            }
        }
        catch (Exception) { /* the host was disposed */ }
    });

    /// <summary>The events so far, oldest first.</summary>
    public IReadOnlyList<HandsetEvent> Snapshot()
    {
        lock (_gate) return [.. _events];
    }

    /// <summary>Events of type <typeparamref name="T"/> so far.</summary>
    public IReadOnlyList<T> All<T>() where T : HandsetEvent => Snapshot().OfType<T>().ToList();

    /// <summary>
    /// The first event (in the whole history) of type <typeparamref name="T"/> that matches
    /// <paramref name="predicate"/>; waits for it up to <paramref name="timeout"/>, then throws
    /// <see cref="TimeoutException"/> listing every event seen.
    /// </summary>
    public async Task<T> WaitAsync<T>(Func<T, bool>? predicate, TimeSpan timeout, CancellationToken ct = default) where T : HandsetEvent
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                foreach (var e in _events)
                    if (e is T match && (predicate is null || predicate(match))) return match;
                changed = _changed.Task;
            }
            try { await changed.WaitAsync(cts.Token); }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new TimeoutException($"no matching {typeof(T).Name} within {timeout}; the handset's events:\n{this}");
            }
        }
    }

    public override string ToString() => string.Join('\n', Snapshot().Select(e => "  " + e));
}
