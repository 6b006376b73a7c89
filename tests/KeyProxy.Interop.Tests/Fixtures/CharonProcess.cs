using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace KeyProxy.Interop.Tests.Fixtures;

/// <summary>
/// One charon daemon in its own session and process group, with a private /run (charon's pid
/// file path is compiled in, so two charons need two /run's): <c>setsid unshare -m sh -c
/// "mount --bind $DIR/run /run; charon &amp; watchdog"</c>. The shell stays as a watchdog: when
/// the owning test process dies (even by SIGKILL) it stops charon within half a second.
/// Stopping sends SIGTERM to the whole group, then SIGKILL after a grace period.
/// </summary>
internal sealed class CharonProcess
{
    public static readonly string BaseDirectory = Path.Combine(Path.GetTempPath(), "keyproxy-charon");

    private const int SIGKILL = 9, SIGTERM = 15;
    private static readonly ConcurrentDictionary<int, CharonProcess> Live = new();

    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private CharonProcess(Process process, string workDirectory)
    {
        _process = process;
        WorkDirectory = workDirectory;
    }

    public string WorkDirectory { get; }

    /// <summary>Process group id (= pid of the watchdog shell, the session leader).</summary>
    public int ProcessGroupId => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>charon's own pid, from the pid file in the private /run (0 until written).</summary>
    public int CharonPid
    {
        get
        {
            try { return int.Parse(File.ReadAllText(Path.Combine(WorkDirectory, "run", "charon.pid")).Trim()); }
            catch (Exception e) when (e is IOException or FormatException) { return 0; }
        }
    }

    /// <summary>What the watchdog shell and charon wrote to stdout/stderr (normally nothing).</summary>
    public string Output { get { lock (_output) return _output.ToString(); } }

    /// <param name="networkNamespace">Run charon inside this namespace (<c>ip netns exec</c>); null: this host's.</param>
    /// <param name="build">Which charon (default: Debian's).</param>
    public static CharonProcess Start(string workDirectory, string strongswanConfPath, string? networkNamespace = null, StrongSwanBuild? build = null)
    {
        EnsureInitialized();
        build ??= StrongSwanBuild.Debian;
        build.EnsureInstalled();
        Directory.CreateDirectory(Path.Combine(workDirectory, "run"));
        const string script =
            "mount --bind \"$KPX_DIR/run\" /run || exit 97\n" +
            "\"$KPX_CHARON\" &\n" +
            "c=$!\n" +
            "trap 'kill -TERM $c 2>/dev/null; wait $c; exit 0' TERM INT HUP\n" +
            "while kill -0 \"$KPX_OWNER\" 2>/dev/null && kill -0 $c 2>/dev/null; do sleep 0.5; done\n" +
            "kill -TERM $c 2>/dev/null\n" +
            "wait $c\n";
        var psi = new ProcessStartInfo("setsid")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workDirectory,
        };
        if (networkNamespace is not null)
            foreach (var a in new[] { "ip", "netns", "exec", networkNamespace }) psi.ArgumentList.Add(a);
        foreach (var a in new[] { "unshare", "--mount", "--propagation", "private", "sh", "-c", script }) psi.ArgumentList.Add(a);
        psi.Environment["STRONGSWAN_CONF"] = strongswanConfPath;
        psi.Environment["KPX_DIR"] = workDirectory;
        psi.Environment["KPX_CHARON"] = build.Charon;
        psi.Environment["KPX_OWNER"] = Environment.ProcessId.ToString();
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var cp = new CharonProcess(process, workDirectory);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (cp._output) cp._output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (cp._output) cp._output.AppendLine(e.Data); };
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        Live[process.Id] = cp;
        File.WriteAllText(Path.Combine(workDirectory, "pgid"), process.Id.ToString());
        return cp;
    }

    /// <summary>SIGTERM to the group (charon deletes its SAs and its TUN device), SIGKILL after <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        try
        {
            if (!_process.HasExited)
            {
                _ = kill(-_process.Id, SIGTERM);
                using var cts = new CancellationTokenSource(grace);
                try { await _process.WaitForExitAsync(cts.Token); }
                catch (OperationCanceledException) { }
            }
            // charon or a straggler may outlive the shell: finish the group off either way.
            _ = kill(-_process.Id, SIGKILL);
            if (!_process.HasExited) await _process.WaitForExitAsync();
        }
        finally
        {
            Live.TryRemove(_process.Id, out _);
            _process.Dispose();
        }
    }

    private void KillNow()
    {
        try { _ = kill(-_process.Id, SIGKILL); } catch { /* best effort at exit */ }
    }

    private static readonly Lazy<bool> Initialized = new(() =>
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var cp in Live.Values) cp.KillNow();
        };
        ReapStale();
        return true;
    });

    /// <summary>Hooks process exit and reaps leftovers of dead test processes; call before creating a work directory.</summary>
    public static void EnsureInitialized() => _ = Initialized.Value;

    /// <summary>
    /// Removes work directories (named &lt;owner pid&gt;-...) left by test processes that no longer
    /// exist, killing their charon process group if the watchdog did not get to it.
    /// </summary>
    private static void ReapStale()
    {
        if (!Directory.Exists(BaseDirectory)) return;
        foreach (var dir in Directory.GetDirectories(BaseDirectory))
        {
            try
            {
                var name = Path.GetFileName(dir);
                var dash = name.IndexOf('-');
                if (dash > 0 && int.TryParse(name.AsSpan(0, dash), out int owner)
                    && (owner == Environment.ProcessId || Directory.Exists($"/proc/{owner}"))) continue;
                var pgidFile = Path.Combine(dir, "pgid");
                if (File.Exists(pgidFile) && int.TryParse(File.ReadAllText(pgidFile).Trim(), out int pgid)
                    && IsOurWatchdog(pgid, dir))
                {
                    _ = kill(-pgid, SIGKILL);
                }
                Directory.Delete(dir, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // another process is reaping the same directory
            }
        }
    }

    private static bool IsOurWatchdog(int pid, string dir)
    {
        try
        {
            var environ = File.ReadAllText($"/proc/{pid}/environ");
            return environ.Contains("KPX_DIR=" + dir + "\0", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static int kill(int pid, int sig) => NativeMethods.Kill(pid, sig);
}

internal static class NativeMethods
{
    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static extern int Kill(int pid, int sig);
}
