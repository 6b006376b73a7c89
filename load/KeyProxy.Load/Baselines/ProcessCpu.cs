using System.Globalization;

namespace KeyProxy.Load.Baselines;

/// <summary>
/// CPU time (user + system) of another process from <c>/proc/PID/stat</c> (proc(5): fields 14 utime and
/// 15 stime, in clock ticks), so a baseline can charge the silo's or charon's CPU to the SAs it made.
/// </summary>
public static class ProcessCpu
{
    /// <summary>Clock ticks per second (sysconf(_SC_CLK_TCK)); 100 on every Linux this runs on.</summary>
    public const int TicksPerSecond = 100;

    /// <summary>The process's CPU time so far, or null when it is gone or /proc cannot be read.</summary>
    public static TimeSpan? Read(int pid)
    {
        string text;
        try { text = File.ReadAllText($"/proc/{pid}/stat"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
        return TryParseStat(text, out var cpu) ? cpu : null;
    }

    /// <summary>
    /// utime + stime from one <c>/proc/PID/stat</c> line. The command name (field 2) is in parentheses and may
    /// itself contain spaces and parentheses, so fields are counted from the last ')'.
    /// </summary>
    public static bool TryParseStat(string stat, out TimeSpan cpu)
    {
        cpu = default;
        int close = stat.LastIndexOf(')');
        if (close < 0) return false;
        // After ")": field 3 (state) is the first token, so utime (14) and stime (15) are tokens 11 and 12.
        var fields = stat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 13
            || !long.TryParse(fields[11], NumberStyles.None, CultureInfo.InvariantCulture, out long utime)
            || !long.TryParse(fields[12], NumberStyles.None, CultureInfo.InvariantCulture, out long stime))
            return false;
        cpu = TimeSpan.FromSeconds((utime + stime) / (double)TicksPerSecond);
        return true;
    }

    /// <summary>The summed CPU time of several processes (those that cannot be read count zero).</summary>
    public static TimeSpan Sum(IEnumerable<int> pids)
    {
        var total = TimeSpan.Zero;
        foreach (var pid in pids) total += Read(pid) ?? TimeSpan.Zero;
        return total;
    }
}
