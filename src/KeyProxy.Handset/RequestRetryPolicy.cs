namespace KeyProxy.Handset;

/// <summary>
/// When a key exchange proxy request is sent again, and when the handset gives up: the first
/// answer may take a whole IKE_SA_INIT + IKE_AUTH with the peer (the network retransmits IKE
/// itself), so the handset waits <see cref="InitialTimeout"/>, then backs off by
/// <see cref="Backoff"/> up to <see cref="MaxAttempts"/> requests in all.
/// </summary>
public sealed record RequestRetryPolicy(TimeSpan InitialTimeout, double Backoff, int MaxAttempts)
{
    public static readonly RequestRetryPolicy Default = new(TimeSpan.FromSeconds(2), 2.0, 4);

    /// <summary>How long to wait for an answer after attempt number <paramref name="attempt"/> (1-based).</summary>
    public TimeSpan TimeoutAfter(int attempt) =>
        TimeSpan.FromTicks((long)(InitialTimeout.Ticks * Math.Pow(Backoff, Math.Max(0, attempt - 1))));

    /// <summary>The whole time from the first request until the handset gives up.</summary>
    public TimeSpan Budget
    {
        get
        {
            var total = TimeSpan.Zero;
            for (int a = 1; a <= MaxAttempts; a++) total += TimeoutAfter(a);
            return total;
        }
    }
}
