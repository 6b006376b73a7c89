using System.Diagnostics;

namespace KeyProxy.Load.Baselines;

/// <summary>
/// A network namespace with only its loopback up, named <c>kpbase-PID-N</c> (two charons in it can then use
/// port 500 without blocking the edge's binds on this host's loopback). Deleted on dispose; namespaces left by
/// dead keyproxy-load processes are deleted by the next <see cref="Create"/>.
/// </summary>
public sealed class NetworkNamespaceScope : IDisposable
{
    public const string Prefix = "kpbase-";
    private static int _counter;

    private NetworkNamespaceScope(string name) => Name = name;

    public string Name { get; }

    public static NetworkNamespaceScope Create()
    {
        ReapStale();
        var name = $"{Prefix}{Environment.ProcessId}-{Interlocked.Increment(ref _counter)}";
        Ip("netns", "add", name);
        Ip("-n", name, "link", "set", "lo", "up");
        return new NetworkNamespaceScope(name);
    }

    private static void ReapStale()
    {
        var list = Run("ip", "netns", "list").Output;
        foreach (var line in list.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var name = line.Split(' ')[0];
            if (!name.StartsWith(Prefix, StringComparison.Ordinal)) continue;
            var parts = name[Prefix.Length..].Split('-');
            if (parts.Length == 2 && int.TryParse(parts[0], out int owner) && !Directory.Exists($"/proc/{owner}"))
                Run("ip", "netns", "del", name);
        }
    }

    private static void Ip(params string[] args)
    {
        var (code, output) = Run("ip", args);
        if (code != 0) throw new InvalidOperationException($"ip {string.Join(' ', args)}: {output}");
    }

    private static (int Code, string Output) Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output);
    }

    public void Dispose() => Run("ip", "netns", "del", Name);
}
