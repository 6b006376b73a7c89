using KeyProxy.Handset;
using KeyProxy.Handset.Cli;

namespace KeyProxy.Cluster.Tests;

/// <summary>A <see cref="UdpHandsetHost"/> whose events are all kept (the host's channel hands each out once).</summary>
internal sealed class RecordedHandset : IAsyncDisposable
{
    private readonly List<HandsetEvent> _events = [];
    private readonly Task _reader;

    public RecordedHandset(UdpHandsetHost host)
    {
        Host = host;
        _reader = Task.Run(async () =>
        {
            await foreach (var e in host.Events.ReadAllAsync())
            {
                lock (_events)
                {
                    _events.Add(e);
                }
            }
        });
    }

    public UdpHandsetHost Host { get; }

    public IReadOnlyList<HandsetEvent> Events
    {
        get { lock (_events) return [.. _events]; }
    }

    public IEnumerable<T> EventsOf<T>() where T : HandsetEvent => Events.OfType<T>();

    /// <summary>The SAs installed and not removed since, by their events (what the handset's SAD holds).</summary>
    public IReadOnlyList<SaInstalled> LiveSas()
    {
        var removed = EventsOf<SaRemoved>().Select(e => e.InboundSpi).ToHashSet();
        return EventsOf<SaInstalled>().Where(e => !removed.Contains(e.InboundSpi)).ToList();
    }

    /// <summary>The first recorded event of type <typeparamref name="T"/> matching <paramref name="match"/>, waiting up to <paramref name="timeout"/>.</summary>
    public async Task<T> WaitAsync<T>(Func<T, bool> match, TimeSpan timeout, string what) where T : HandsetEvent
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var found = EventsOf<T>().FirstOrDefault(match);
            if (found is not null)
            {
                return found;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{what}: no {typeof(T).Name} within {timeout}; events: {string.Join("; ", Events)}; counters: {Host.Counters}");
            }

            await Task.Delay(20);
        }
    }

    public async Task<byte[]> NextDeliveredAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            return await Host.Delivered.ReadAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"nothing delivered within {timeout}; events: {string.Join("; ", Events)}; counters: {Host.Counters}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        await _reader;
    }
}
