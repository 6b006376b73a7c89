using System.Diagnostics;
using System.Net;

namespace KeyProxy.Load.Chaos;

/// <summary>One silo of the soak's cluster: its name, ports, admin API and (edges) access endpoint.</summary>
public sealed record ChaosSilo(string Name, int SiloPort, Uri Api, IPEndPoint? Access)
{
    public bool IsEdge => Access is not null;
}

/// <summary>
/// The soak's cluster, driven through <c>infra/cluster/cluster.sh</c>: two edge silos and two core silos of the Release
/// build on Azurite persisted on disk (Azure Table clustering, grain storage and reminders), each silo in a cgroup of its
/// own so <c>cluster.sh isolate</c> can cut it off. Its ports are cluster.sh's shifted by <see cref="PortOffset"/>, so it
/// runs beside the tests' clusters (which take free ports) and cluster.sh's default one. The soak's short settings
/// (<see cref="ChaosSettings"/>) reach every silo through cluster.sh's environment, at start and at every restart.
/// </summary>
public sealed class ChaosCluster
{
    private readonly string _script;
    private readonly IReadOnlyDictionary<string, string> _environment;
    private readonly TextWriter _log;

    public ChaosCluster(string repositoryRoot, string directory, int portOffset, int ikePort, int natTPort, IReadOnlyDictionary<string, string> environment, TextWriter log)
    {
        _script = Path.Combine(repositoryRoot, "infra", "cluster", "cluster.sh");
        Directory = directory;
        PortOffset = portOffset;
        IkePort = ikePort;
        NatTPort = natTPort;
        _environment = environment;
        _log = log;
        ClusterId = $"keyproxy-chaos-{portOffset}";
        Silos =
        [
            new("edge-a", 11111 + portOffset, new Uri($"https://127.0.0.1:{8081 + portOffset}"), new IPEndPoint(IPAddress.Loopback, 7401 + portOffset)),
            new("edge-b", 11112 + portOffset, new Uri($"https://127.0.0.1:{8082 + portOffset}"), new IPEndPoint(IPAddress.Loopback, 7402 + portOffset)),
            new("core", 11113 + portOffset, new Uri($"https://127.0.0.1:{8083 + portOffset}"), null),
            new("core-2", 11114 + portOffset, new Uri($"https://127.0.0.1:{8084 + portOffset}"), null),
        ];
    }

    public string Directory { get; }

    public int PortOffset { get; }

    public int IkePort { get; }

    public int NatTPort { get; }

    public string ClusterId { get; }

    public IReadOnlyList<ChaosSilo> Silos { get; }

    public ChaosSilo EdgeA => Silos[0];

    public ChaosSilo EdgeB => Silos[1];

    /// <summary>The handset pools of edge A and B (one handset per address), apart from the tests' 127.0.81-94.0/24.</summary>
    public string PoolA => "127.0.181.0/24";

    public string PoolB => "127.0.182.0/24";

    public ChaosSilo Silo(string name) => Silos.First(s => s.Name == name);

    /// <summary>Where silo <paramref name="name"/> writes its output (cluster.sh keeps earlier runs' beside it as NAME.&lt;ms&gt;.log).</summary>
    public string LogPath(string name) => Path.Combine(Directory, name + ".log");

    /// <summary>Whether the silo's process runs (its pid file names a live process).</summary>
    public bool IsRunning(string name)
    {
        var pidFile = Path.Combine(Directory, name + ".pid");
        if (!File.Exists(pidFile) || !int.TryParse(File.ReadAllText(pidFile).Trim(), out int pid)) return false;
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    public Task StartAsync(CancellationToken ct) => RunAsync(ct, "start", "--dir", Directory, "--cluster-id", ClusterId, "--config", "Release",
        "--cores", "2", "--port-offset", PortOffset.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--table-port", (10002 + PortOffset).ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--ike-port", IkePort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--natt-port", NatTPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--pool-a", PoolA, "--pool-b", PoolB, "--disk-storage", "--cgroups");

    public Task StopAsync(CancellationToken ct) => RunAsync(ct, "stop", "--dir", Directory);

    /// <summary>
    /// SIGKILL of the silo's process (as <c>cluster.sh kill</c> does, but without a shell's start-up between the decision
    /// and the signal, so the fault's start time is the kill's); returns when the process is gone.
    /// </summary>
    public async Task KillAsync(string silo, CancellationToken ct)
    {
        var pidFile = Path.Combine(Directory, silo + ".pid");
        if (!int.TryParse(File.ReadAllText(pidFile).Trim(), out int pid)) throw new InvalidOperationException($"{pidFile} holds no pid");
        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill(); // SIGKILL on Linux
            await process.WaitForExitAsync(ct);
        }
        catch (ArgumentException)
        {
            // already gone
        }
        File.Delete(pidFile);
        lock (_log) _log.WriteLine($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} silo {silo} (pid {pid}) killed (SIGKILL)");
    }

    public Task StartSiloAsync(string silo, CancellationToken ct) => RunAsync(ct, "start-silo", silo, "--dir", Directory);

    public Task StopStorageAsync(CancellationToken ct) => RunAsync(ct, "storage-stop", "--dir", Directory);

    public Task StartStorageAsync(CancellationToken ct) => RunAsync(ct, "storage-start", "--dir", Directory);

    public Task IsolateAsync(string silo, CancellationToken ct) => RunAsync(ct, "isolate", silo, "--dir", Directory);

    public Task HealAsync(string silo, CancellationToken ct) => RunAsync(ct, "heal", silo, "--dir", Directory);

    /// <summary>Runs cluster.sh with the soak's environment; its output goes to the soak's log; a non-zero exit throws.</summary>
    private async Task RunAsync(CancellationToken ct, params string[] args)
    {
        var info = new ProcessStartInfo("bash") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(_script);
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var (k, v) in _environment) info.Environment[k] = v;
        using var process = Process.Start(info) ?? throw new InvalidOperationException("cannot start bash");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        var text = (await stdout + await stderr).Trim();
        lock (_log)
            foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                _log.WriteLine($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} {line}");
        if (process.ExitCode != 0) throw new InvalidOperationException($"cluster.sh {string.Join(' ', args)} exited {process.ExitCode}: {text}");
    }

    /// <summary>The repository root: the first parent of the tool's directory (or the working directory) with infra/cluster/cluster.sh.</summary>
    public static string? FindRepositoryRoot()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "infra", "cluster", "cluster.sh"))) return dir.FullName;
        return null;
    }
}
