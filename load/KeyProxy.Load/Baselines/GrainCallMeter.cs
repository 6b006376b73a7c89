using System.Net.Http.Json;

namespace KeyProxy.Load.Baselines;

/// <summary>
/// The grain calls a silo received and the bytes it allocated over a load phase, from its GET /api/grain-calls
/// (issue 17: grain calls and allocation per proxied SA).
/// </summary>
public sealed class GrainCallMeter(Uri api) : ILoadPhaseMeter
{
    private GrainCallsReading? _start;

    /// <summary>Calls over the load phase (null until it ended).</summary>
    public long? Calls { get; private set; }

    /// <summary>Calls over the load phase by "Interface.Method", those with none left out.</summary>
    public IReadOnlyDictionary<string, long> ByMethod { get; private set; } = new Dictionary<string, long>();

    /// <summary>Bytes the silo process allocated over the load phase (null until it ended).</summary>
    public long? AllocatedBytes { get; private set; }

    public async Task StartAsync(CancellationToken ct) => _start = await ReadAsync(ct);

    public async Task StopAsync(CancellationToken ct)
    {
        // The phase's last SAs still cause calls after their handsets have them (a session lists itself in the
        // directory just after its key transfer left): read until the total stops moving, for up to 3 s.
        var end = await ReadAsync(ct);
        for (int i = 0; i < 30; i++)
        {
            await Task.Delay(100, ct);
            var again = await ReadAsync(ct);
            if (again.Total == end.Total) break;
            end = again;
        }
        var start = _start ?? throw new InvalidOperationException("the load phase ended before it started");
        var byMethod = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var (method, count) in end.ByMethod)
        {
            long delta = count - start.ByMethod.GetValueOrDefault(method);
            if (delta != 0) byMethod[method] = delta;
        }
        (Calls, ByMethod, AllocatedBytes) = (end.Total - start.Total, byMethod, end.AllocatedBytes - start.AllocatedBytes);
    }

    private async Task<GrainCallsReading> ReadAsync(CancellationToken ct)
    {
        using var http = Scenarios.LoadCredentials.Client(api, TimeSpan.FromSeconds(10));
        return await http.GetFromJsonAsync<GrainCallsReading>("api/grain-calls", ct)
            ?? throw new InvalidOperationException($"{api}api/grain-calls answered null");
    }

    private sealed record GrainCallsReading(long Total, Dictionary<string, long> ByMethod, long AllocatedBytes);
}
