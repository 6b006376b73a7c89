using System.Diagnostics;

namespace KeyProxy.Benchmarks;

/// <summary>Operations per second of a closure, on one or more threads, after a short warm-up.</summary>
internal static class Throughput
{
    /// <summary>Operations per second of <paramref name="operation"/> over all threads, after a short warm-up.</summary>
    public static double Measure(double seconds, int threads, Action operation)
    {
        var warmup = Stopwatch.StartNew();
        while (warmup.Elapsed.TotalSeconds < Math.Min(0.3, seconds / 4))
        {
            operation();
        }

        var counts = new long[threads];
        var stopwatch = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            long n = 0;
            while (stopwatch.Elapsed.TotalSeconds < seconds)
            {
                for (var i = 0; i < 8; i++)
                {
                    operation();
                }

                n += 8;
            }

            counts[t] = n;
        })).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());
        return counts.Sum() / stopwatch.Elapsed.TotalSeconds;
    }
}
