namespace KeyProxy.Load.Chaos;

/// <summary>
/// What the injector is told: the seed, how long it may start faults, the pause between two faults, the mix of kinds
/// and the faults it must make at least (they come first, in a seeded order), how long storage stays down and a silo
/// stays cut off.
/// </summary>
public sealed record FaultPlan(int Seed, TimeSpan Duration)
{
    public TimeSpan GapMin { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan GapMax { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Relative weights of the kinds drawn after the required ones.</summary>
    public IReadOnlyDictionary<FaultKind, double> Mix { get; init; } = new Dictionary<FaultKind, double>
    {
        [FaultKind.Kill] = 3, [FaultKind.Storage] = 1, [FaultKind.Isolate] = 1,
    };

    /// <summary>Faults that must happen (the smoke's: 3 kills, 1 storage outage, 1 isolation).</summary>
    public IReadOnlyDictionary<FaultKind, int> Required { get; init; } = new Dictionary<FaultKind, int>();

    public TimeSpan StorageMin { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan StorageMax { get; init; } = TimeSpan.FromSeconds(20);

    public TimeSpan IsolateMin { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan IsolateMax { get; init; } = TimeSpan.FromSeconds(15);
}

/// <summary>
/// The seeded fault injector: one fault at a time, at random times (a seeded pause after the last fault was over), each
/// logged as it starts and ends. Kill: SIGKILL of a random silo, started again at once (cluster.sh start-silo). Storage:
/// Azurite stopped for 5-20 s and started again on the same data directory and ports. Isolate: a random silo cut off
/// from the other silos both ways (nftables on the silo ports, matched by the silo's cgroup; storage stays reachable,
/// so the others can declare it dead and it learns so and stops) for 5-15 s, then healed and, if it stopped, started
/// again. The same seed gives the same kinds, targets, pauses and lengths.
/// </summary>
public sealed class FaultInjector(ChaosCluster cluster, MembershipWatch membership, FaultPlan plan, TextWriter log)
{
    private readonly Random _random = new(plan.Seed);
    private readonly List<FaultRecord> _faults = [];

    public IReadOnlyList<FaultRecord> Faults => _faults;

    /// <summary>Runs faults until the plan's duration is over (no fault starts later than that); the required ones first.</summary>
    public async Task RunAsync(DateTimeOffset until, CancellationToken ct)
    {
        var required = new List<FaultKind>();
        foreach (var (kind, n) in plan.Required) for (int i = 0; i < n; i++) required.Add(kind);
        // Seeded shuffle of the required faults (Fisher-Yates).
        for (int i = required.Count - 1; i > 0; i--)
        {
            int j = _random.Next(i + 1);
            (required[i], required[j]) = (required[j], required[i]);
        }
        int number = 0;
        while (!ct.IsCancellationRequested)
        {
            var gap = Between(plan.GapMin, plan.GapMax);
            if (DateTimeOffset.UtcNow + gap >= until) break;
            try { await Task.Delay(gap, ct); } catch (OperationCanceledException) { break; }
            var kind = number < required.Count ? required[number] : Draw();
            var record = kind switch
            {
                FaultKind.Kill => await KillAsync(++number, ct),
                FaultKind.Storage => await StorageAsync(++number, ct),
                _ => await IsolateAsync(++number, ct),
            };
            _faults.Add(record);
            Log($"fault {record.Number} {record.Kind} {record.Target} over after {(record.End - record.Start).TotalSeconds:F1} s"
                + (record.Detection is { } d ? $"; declared dead after {d.TotalSeconds:F1} s" : "") + (record.Error is { } e ? "; ERROR " + e : ""));
        }
    }

    private FaultKind Draw()
    {
        double total = plan.Mix.Values.Sum(), x = _random.NextDouble() * total;
        foreach (var (kind, weight) in plan.Mix)
        {
            if (x < weight) return kind;
            x -= weight;
        }
        return FaultKind.Kill;
    }

    private TimeSpan Between(TimeSpan min, TimeSpan max) => min + (max - min) * _random.NextDouble();

    private ChaosSilo RandomSilo() => cluster.Silos[_random.Next(cluster.Silos.Count)];

    private async Task<FaultRecord> KillAsync(int number, CancellationToken ct)
    {
        var silo = RandomSilo();
        var record = new FaultRecord(number, FaultKind.Kill, silo.Name);
        var generation = membership.Current(silo.Name);
        record.Start = DateTimeOffset.UtcNow;
        Log($"fault {number}: SIGKILL {silo.Name} (silo address {generation?.Address ?? "not seen Active"})");
        try
        {
            if (cluster.IsRunning(silo.Name)) await cluster.KillAsync(silo.Name, ct);
            else record.Note = "was not running; ";
            await cluster.StartSiloAsync(silo.Name, ct);
        }
        catch (InvalidOperationException e)
        {
            record.Error = e.Message;
        }
        record.End = DateTimeOffset.UtcNow;
        if (generation is not null && await membership.DeadAtAsync(generation, record.Start, ChaosSettings.FailureDetectionAllowed, ct) is { } dead)
            record.Detection = dead - record.Start;
        return record;
    }

    private async Task<FaultRecord> StorageAsync(int number, CancellationToken ct)
    {
        var record = new FaultRecord(number, FaultKind.Storage, "azurite");
        var outage = Between(plan.StorageMin, plan.StorageMax);
        record.Start = DateTimeOffset.UtcNow;
        Log($"fault {number}: storage stopped for {outage.TotalSeconds:F1} s");
        try
        {
            await cluster.StopStorageAsync(ct);
            await Task.Delay(outage, ct);
            record.Held = DateTimeOffset.UtcNow - record.Start;
            await cluster.StartStorageAsync(ct);
        }
        catch (InvalidOperationException e)
        {
            record.Error = e.Message;
        }
        record.End = DateTimeOffset.UtcNow;
        // A silo may have stopped while storage was down (it could not renew its membership row): start it again.
        await RestartStoppedAsync(record, ct);
        return record;
    }

    private async Task<FaultRecord> IsolateAsync(int number, CancellationToken ct)
    {
        var silo = RandomSilo();
        var record = new FaultRecord(number, FaultKind.Isolate, silo.Name);
        var generation = membership.Current(silo.Name);
        var length = Between(plan.IsolateMin, plan.IsolateMax);
        record.Start = DateTimeOffset.UtcNow;
        Log($"fault {number}: {silo.Name} cut off from the other silos for {length.TotalSeconds:F1} s");
        membership.Avoid = silo.Name;
        try
        {
            await cluster.IsolateAsync(silo.Name, ct);
            await Task.Delay(length, ct);
            record.StoppedItself = !cluster.IsRunning(silo.Name);
            record.Held = DateTimeOffset.UtcNow - record.Start;
        }
        catch (InvalidOperationException e)
        {
            record.Error = e.Message;
        }
        finally
        {
            try { await cluster.HealAsync(silo.Name, CancellationToken.None); }
            catch (InvalidOperationException e) { record.Error = (record.Error is null ? "" : record.Error + "; ") + e.Message; }
        }
        if (generation is not null && await membership.DeadAtAsync(generation, record.Start, TimeSpan.FromSeconds(1), ct) is { } dead)
            record.Detection = dead - record.Start;
        // Declared dead, the silo stops itself (Orleans: a silo that finds itself dead in the table ends its process); it may
        // learn that only after the cut is gone, at its next read of the table. When the others declared it dead, wait for
        // it to stop (up to 20 s); otherwise give it a moment. Then start it again if it stopped.
        var stopBy = DateTimeOffset.UtcNow + (record.Detection is null ? TimeSpan.FromSeconds(3) : TimeSpan.FromSeconds(20));
        while (DateTimeOffset.UtcNow < stopBy && cluster.IsRunning(silo.Name)) await Task.Delay(250, ct);
        record.StoppedItself |= !cluster.IsRunning(silo.Name);
        membership.Avoid = null;
        await RestartStoppedAsync(record, ct);
        record.End = DateTimeOffset.UtcNow;
        if (record.Detection is null && generation is not null && await membership.DeadAtAsync(generation, record.Start, TimeSpan.FromSeconds(1), ct) is { } later)
            record.Detection = later - record.Start;
        return record;
    }

    /// <summary>Starts every silo whose process is gone.</summary>
    private async Task RestartStoppedAsync(FaultRecord record, CancellationToken ct)
    {
        foreach (var silo in cluster.Silos)
        {
            if (cluster.IsRunning(silo.Name)) continue;
            record.Note += $"{silo.Name} had stopped, started again; ";
            Log($"fault {record.Number}: {silo.Name} is not running; starting it again");
            try { await cluster.StartSiloAsync(silo.Name, ct); }
            catch (InvalidOperationException e) { record.Error = (record.Error is null ? "" : record.Error + "; ") + e.Message; }
        }
    }

    private void Log(string line)
    {
        lock (log) log.WriteLine($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} {line}");
    }
}
