namespace KeyProxy.Edge.Admission;

/// <summary>
/// A token bucket: <see cref="Rate"/> tokens a second, at most <see cref="Burst"/> saved up. One
/// per handset limits its proxy requests (each one is a grain activation and an IKE exchange).
/// Times are caller-supplied (seconds on any monotonic clock), for tests. Thread-safe.
/// </summary>
public sealed class TokenBucket
{
    private readonly object _gate = new();
    private double _tokens;
    private double _last;

    public TokenBucket(double rate, int burst, double now)
    {
        if (rate <= 0 || double.IsNaN(rate)) throw new ArgumentOutOfRangeException(nameof(rate), "the rate must be positive");
        if (burst < 1) throw new ArgumentOutOfRangeException(nameof(burst), "the burst must be at least 1");
        (Rate, Burst, _tokens, _last) = (rate, burst, burst, now);
    }

    public double Rate { get; }

    public int Burst { get; }

    /// <summary>Takes one token if there is one at <paramref name="now"/> (seconds); false means over the limit.</summary>
    public bool TryTake(double now)
    {
        lock (_gate)
        {
            if (now > _last)
            {
                _tokens = Math.Min(Burst, _tokens + (now - _last) * Rate);
                _last = now;
            }
            if (_tokens < 1) return false;
            _tokens -= 1;
            return true;
        }
    }
}
