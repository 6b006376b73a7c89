namespace KeyProxy.Load.Framework;

/// <summary>
/// Runs one scenario under one load simulation: init, the load (closed: copies looping; open: runs
/// started on the rate's schedule), waits for the runs in flight, clean. Steps run in order; an
/// exception in a step counts as a failure with the exception's type as status. Each step's figures
/// are also kept per <paramref name="interval"/> of the load (latency over time; 1 s unless given).
/// </summary>
public sealed class ScenarioRunner(ILoadClock? clock = null, TimeSpan? interval = null)
{
    /// <summary>How often the open model checks its schedule when no start is due sooner.</summary>
    public static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(5);

    private readonly ILoadClock _clock = clock ?? new SystemLoadClock();

    /// <summary>The statistics being filled, for live progress; set when the load starts.</summary>
    public IReadOnlyList<StepStatistics> Live { get; private set; } = [];

    public TimeSpan LoadElapsed => _loadStart is { } s ? _clock.Elapsed - s : TimeSpan.Zero;

    public long Invocations => Interlocked.Read(ref _invocations);

    private TimeSpan? _loadStart;
    private long _invocations;

    public async Task<ScenarioStats> RunAsync(Scenario scenario, LoadSimulation simulation, CancellationToken ct = default)
    {
        if (scenario.Init is { } init) await init(new ScenarioInitContext(simulation, ct));
        var steps = new StepStatistics[scenario.Steps.Count];
        for (int i = 0; i < steps.Length; i++) steps[i] = new StepStatistics(scenario.Steps[i].Name, interval);
        Live = steps;
        var start = _clock.Elapsed;
        _loadStart = start;
        switch (simulation)
        {
            case KeepConstant closed:
                await RunClosedAsync(scenario, closed, steps, start, ct);
                break;
            case OpenSimulation open:
                await RunOpenAsync(scenario, open, steps, start, ct);
                break;
            default:
                throw new ArgumentException($"unknown load simulation {simulation.GetType().Name}", nameof(simulation));
        }
        var duration = _clock.Elapsed - start;
        _loadStart = null;
        if (scenario.Clean is { } clean) await clean(ct);
        var stats = new StepStats[steps.Length];
        for (int i = 0; i < steps.Length; i++) stats[i] = steps[i].Snapshot(duration) with { Unit = scenario.Steps[i].Unit };
        return new ScenarioStats(scenario.Name, simulation.Describe(), duration, Invocations, stats);
    }

    private bool TryTakeInvocation(Scenario scenario, out long number)
    {
        number = Interlocked.Increment(ref _invocations) - 1;
        if (scenario.MaxInvocations is { } max && number >= max)
        {
            Interlocked.Decrement(ref _invocations);
            return false;
        }
        return true;
    }

    private async Task RunClosedAsync(Scenario scenario, KeepConstant closed, StepStatistics[] steps, TimeSpan start, CancellationToken ct)
    {
        var copies = new Task[closed.Copies];
        for (int c = 0; c < copies.Length; c++)
        {
            int copy = c;
            copies[c] = Task.Run(async () =>
            {
                while (!ct.IsCancellationRequested && _clock.Elapsed - start < closed.During && TryTakeInvocation(scenario, out long n))
                    await RunOnceAsync(scenario, steps, start, n, copy, ct);
            }, CancellationToken.None);
        }
        await Task.WhenAll(copies);
    }

    private async Task RunOpenAsync(Scenario scenario, OpenSimulation open, StepStatistics[] steps, TimeSpan start, CancellationToken ct)
    {
        var inFlight = new List<Task>();
        long started = 0;
        while (!ct.IsCancellationRequested)
        {
            var elapsed = _clock.Elapsed - start;
            long due = open.StartsDue(elapsed);
            for (; started < due; started++)
            {
                if (!TryTakeInvocation(scenario, out long n)) { due = started; break; }
                inFlight.Add(Task.Run(() => RunOnceAsync(scenario, steps, start, n, -1, ct), CancellationToken.None));
            }
            if (elapsed >= open.During || scenario.MaxInvocations is { } max && Invocations >= max) break;
            if (inFlight.Count > 1024) inFlight.RemoveAll(t => t.IsCompleted);
            try { await _clock.Delay(Tick, ct); }
            catch (OperationCanceledException) { break; }
        }
        await Task.WhenAll(inFlight);
    }

    private async Task RunOnceAsync(Scenario scenario, StepStatistics[] steps, TimeSpan loadStart, long invocation, int copy, CancellationToken ct)
    {
        var context = new StepContext
        {
            ScenarioName = scenario.Name, InvocationNumber = invocation, CopyNumber = copy, Clock = _clock, CancellationToken = ct,
        };
        for (int i = 0; i < steps.Length; i++)
        {
            var before = _clock.Elapsed;
            StepResult result;
            try { result = await scenario.Steps[i].Run(context); }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { result = StepResult.Fail("cancelled"); }
            catch (Exception e) { result = StepResult.Fail(e.GetType().Name); }
            var after = _clock.Elapsed;
            steps[i].Record(result, after - before, after - loadStart);
            if (!result.IsOk) return;
        }
    }
}
