using HdrHistogram;

namespace KeyProxy.Load.Framework;

/// <summary>
/// Live counters of one step: ok and failed counts, bytes, failure statuses, an HdrHistogram of
/// ok latencies in microseconds (1 µs to 1 h, 3 significant digits) and the same per interval of
/// the load (<see cref="IntervalRecorder"/>, 1 s unless given). Thread-safe.
/// </summary>
public sealed class StepStatistics(string name, TimeSpan? interval = null)
{
    /// <summary>The interval of the latency-over-time rows when none is given.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(1);

    /// <summary>Highest latency the histogram tracks (one hour, in microseconds); longer values are clamped to it.</summary>
    public const long HighestMicroseconds = 3_600_000_000;

    private readonly Lock _gate = new();
    private readonly LongHistogram _latency = new(1, HighestMicroseconds, 3);
    private readonly IntervalRecorder _intervals = new(interval ?? DefaultInterval);
    private readonly Dictionary<string, long> _failures = [];
    private long _ok, _fail, _bytes, _min = long.MaxValue;

    public string Name { get; } = name;

    public long Ok => Interlocked.Read(ref _ok);

    public long Failed => Interlocked.Read(ref _fail);

    /// <summary>
    /// Records one invocation that ended <paramref name="at"/> after the load started; failed ones count but stay
    /// out of the latency figures (as NBomber's ok latencies).
    /// </summary>
    public void Record(StepResult result, TimeSpan latency, TimeSpan at = default)
    {
        long us = Math.Clamp((long)Math.Round(latency.TotalMicroseconds), 1, HighestMicroseconds);
        lock (_gate)
        {
            _intervals.Record(at, result.IsOk, us);
            _bytes += result.Bytes;
            if (result.IsOk)
            {
                _ok++;
                _latency.RecordValue(us);
                if (us < _min) _min = us;
            }
            else
            {
                _fail++;
                var status = result.Status ?? "failed";
                _failures[status] = _failures.GetValueOrDefault(status) + 1;
            }
        }
    }

    /// <summary>The figures now; <paramref name="duration"/> is the time the load ran, for the rate.</summary>
    public StepStats Snapshot(TimeSpan duration)
    {
        lock (_gate)
        {
            bool any = _ok > 0;
            double Ms(long us) => any ? us / 1000.0 : 0;
            long At(double percentile) => any ? _latency.GetValueAtPercentile(percentile) : 0;
            double seconds = duration.TotalSeconds;
            return new StepStats(Name, _ok, _fail, _bytes,
                seconds > 0 ? (_ok + _fail) / seconds : 0,
                Ms(any ? _min : 0),
                any ? _latency.GetMean() / 1000.0 : 0,
                Ms(At(50)),
                Ms(At(75)),
                Ms(At(95)),
                Ms(At(99)),
                Ms(any ? _latency.GetMaxValue() : 0),
                Distribution(any),
                new Dictionary<string, long>(_failures))
            {
                Intervals = _intervals.Timeline(duration),
            };
        }
    }

    private static readonly double[] DistributionPercentiles = [0, 10, 25, 50, 75, 90, 95, 99, 99.9, 100];

    private IReadOnlyList<(double Percentile, double Ms)> Distribution(bool any)
    {
        var points = new List<(double, double)>(DistributionPercentiles.Length);
        if (!any) return points;
        foreach (var p in DistributionPercentiles)
            points.Add((p, p == 0 ? _min / 1000.0 : _latency.GetValueAtPercentile(p) / 1000.0));
        return points;
    }
}
