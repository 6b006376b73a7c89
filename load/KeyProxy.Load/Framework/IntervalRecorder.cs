using HdrHistogram;

namespace KeyProxy.Load.Framework;

/// <summary>
/// Latency over time for one step: an HdrHistogram of the current interval, reduced to an
/// <see cref="IntervalStats"/> row when an invocation ends in a later interval, so memory stays one
/// histogram per step however long the run. Not thread-safe: <see cref="StepStatistics"/> holds its lock.
/// </summary>
public sealed class IntervalRecorder(TimeSpan interval)
{
    private readonly LongHistogram _current = new(1, StepStatistics.HighestMicroseconds, 3);
    private readonly List<IntervalStats> _closed = [];
    private long _index, _ok, _failed;

    public TimeSpan Interval { get; } = interval > TimeSpan.Zero ? interval : throw new ArgumentOutOfRangeException(nameof(interval), "the interval must be positive");

    /// <summary>
    /// Records an invocation that ended <paramref name="at"/> after the load started. Interval i holds what ended in
    /// (i × length, (i + 1) × length], so one ending exactly when the load ends is in the last interval, not a row of
    /// its own. One that reaches the lock after a later invocation has closed its interval counts in the current one
    /// (off by at most the lock wait).
    /// </summary>
    public void Record(TimeSpan at, bool ok, long microseconds)
    {
        long index = IndexOf(at);
        if (index > _index) Advance(index);
        if (ok)
        {
            _ok++;
            _current.RecordValue(microseconds);
        }
        else
        {
            _failed++;
        }
    }

    /// <summary>Every interval up to <paramref name="end"/> (the last one cut there), without closing the current one.</summary>
    public IReadOnlyList<IntervalStats> Timeline(TimeSpan end)
    {
        var rows = new List<IntervalStats>(_closed);
        long endIndex = Math.Max(_index, IndexOf(end));
        for (long i = _index; i <= endIndex; i++)
        {
            var start = TimeSpan.FromTicks(i * Interval.Ticks);
            var length = i == endIndex && end > start ? TimeSpan.FromTicks(Math.Min(Interval.Ticks, (end - start).Ticks)) : Interval;
            rows.Add(i == _index ? Row(start, length) : Empty(start, length));
        }
        return rows;
    }

    private long IndexOf(TimeSpan at) => at.Ticks <= 0 ? 0 : (at.Ticks - 1) / Interval.Ticks;

    private void Advance(long index)
    {
        _closed.Add(Row(TimeSpan.FromTicks(_index * Interval.Ticks), Interval));
        for (long i = _index + 1; i < index; i++) _closed.Add(Empty(TimeSpan.FromTicks(i * Interval.Ticks), Interval));
        _current.Reset();
        (_index, _ok, _failed) = (index, 0, 0);
    }

    private IntervalStats Row(TimeSpan start, TimeSpan length)
    {
        if (_ok == 0) return new IntervalStats(start, length, 0, _failed, 0, 0, 0, 0);
        return new IntervalStats(start, length, _ok, _failed,
            _current.GetValueAtPercentile(50) / 1000.0, _current.GetValueAtPercentile(90) / 1000.0,
            _current.GetValueAtPercentile(99) / 1000.0, _current.GetMaxValue() / 1000.0);
    }

    private static IntervalStats Empty(TimeSpan start, TimeSpan length) => new(start, length, 0, 0, 0, 0, 0, 0);
}
