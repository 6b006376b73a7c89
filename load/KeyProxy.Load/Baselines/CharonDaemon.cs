using System.Diagnostics;
using System.Runtime.InteropServices;

namespace KeyProxy.Load.Baselines;

/// <summary>
/// One charon for the baselines (DESIGN, "strongSwan" facts): its own strongswan.conf and a private /run
/// (charon's pid file path is compiled in) via <c>setsid [ip netns exec NS] unshare -m sh -c "mount --bind
/// DIR/run /run; charon &amp; watchdog"</c>. The shell stays as a watchdog that stops charon when this process
/// dies; <see cref="DisposeAsync"/> sends SIGTERM to the process group, SIGKILL after a grace period.
/// </summary>
public sealed class CharonDaemon : IAsyncDisposable
{
    private const int SIGTERM = 15, SIGKILL = 9;

    private readonly Process _process;

    private CharonDaemon(Process process, string directory)
    {
        _process = process;
        Directory = directory;
    }

    public string Directory { get; }

    public string LogPath => Path.Combine(Directory, "charon.log");

    /// <summary>charon's pid from the pid file in the private /run; 0 until written.</summary>
    public int Pid
    {
        get
        {
            try { return int.Parse(File.ReadAllText(Path.Combine(Directory, "run", "charon.pid")).Trim()); }
            catch (Exception e) when (e is IOException or FormatException) { return 0; }
        }
    }

    /// <summary>Starts <paramref name="install"/>'s charon with <paramref name="strongswanConf"/> (written to DIR/strongswan.conf) and waits for its pid file.</summary>
    public static async Task<CharonDaemon> StartAsync(string directory, string strongswanConf, string? networkNamespace, StrongSwanInstall install, CancellationToken ct)
    {
        if (!File.Exists(install.Charon)) throw new InvalidOperationException($"{install.Charon} not found: run {install.BuildScript} ({install.Name})");
        System.IO.Directory.CreateDirectory(Path.Combine(directory, "run"));
        var conf = Path.Combine(directory, "strongswan.conf");
        await File.WriteAllTextAsync(conf, strongswanConf, ct);
        const string script =
            "mount --bind \"$KPB_DIR/run\" /run || exit 97\n" +
            "\"$KPB_CHARON\" &\n" +
            "c=$!\n" +
            "trap 'kill -TERM $c 2>/dev/null; wait $c; exit 0' TERM INT HUP\n" +
            "while kill -0 \"$KPB_OWNER\" 2>/dev/null && kill -0 $c 2>/dev/null; do sleep 0.5; done\n" +
            "kill -TERM $c 2>/dev/null\n" +
            "wait $c\n";
        var psi = new ProcessStartInfo("setsid") { UseShellExecute = false, WorkingDirectory = directory, RedirectStandardInput = true };
        if (networkNamespace is not null)
            foreach (var a in new[] { "ip", "netns", "exec", networkNamespace }) psi.ArgumentList.Add(a);
        foreach (var a in new[] { "unshare", "--mount", "--propagation", "private", "sh", "-c", script }) psi.ArgumentList.Add(a);
        psi.Environment["STRONGSWAN_CONF"] = conf;
        psi.Environment["KPB_DIR"] = directory;
        psi.Environment["KPB_CHARON"] = install.Charon;
        psi.Environment["KPB_OWNER"] = Environment.ProcessId.ToString();
        var process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start charon");
        process.StandardInput.Close();
        var daemon = new CharonDaemon(process, directory);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (daemon.Pid == 0)
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                await daemon.DisposeAsync();
                throw new InvalidOperationException($"charon in {directory} did not start; log: {daemon.LogTail()}");
            }
            await Task.Delay(50, ct);
        }
        return daemon;
    }

    /// <summary>Waits until <paramref name="path"/> (e.g. a control socket charon creates) exists.</summary>
    public async Task WaitForFileAsync(string path, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!File.Exists(path))
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
                throw new InvalidOperationException($"charon did not create {path}; log: {LogTail()}");
            await Task.Delay(50, ct);
        }
    }

    /// <summary>The end of charon's log (for error messages).</summary>
    public string LogTail()
    {
        try
        {
            var lines = File.ReadAllLines(LogPath);
            return string.Join(" | ", lines[Math.Max(0, lines.Length - 8)..]);
        }
        catch (IOException) { return "(no log)"; }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _ = Kill(-_process.Id, SIGTERM);
                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                try { await _process.WaitForExitAsync(grace.Token); } catch (OperationCanceledException) { }
            }
            _ = Kill(-_process.Id, SIGKILL);
        }
        finally { _process.Dispose(); }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int sig);
}
