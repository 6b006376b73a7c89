using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace KeyProxy.Load.Baselines;

/// <summary>
/// A process the comparison starts (the silo, the peers) so its CPU can be read from /proc apart from this one's.
/// Its output is kept (the last lines, for errors); <see cref="DisposeAsync"/> sends SIGTERM, then kills it.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Queue<string> _tail = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string? _readyLine;

    private ChildProcess(Process process, string? readyLine)
    {
        _process = process;
        _readyLine = readyLine;
    }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>The last lines it wrote.</summary>
    public string Tail { get { lock (_tail) return string.Join('\n', _tail); } }

    /// <param name="readyLine">A line (prefix) on stdout that <see cref="WaitReadyAsync"/> waits for; null: none.</param>
    /// <param name="environment">Variables set for the child on top of this process's.</param>
    /// <param name="onLine">Called with every line it writes (stdout and stderr), e.g. to keep them all.</param>
    public static ChildProcess Start(string file, IEnumerable<string> args, string? readyLine = null, IReadOnlyDictionary<string, string>? environment = null,
        Action<string>? onLine = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true,
            StandardOutputEncoding = Encoding.UTF8,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) psi.Environment[name] = value;
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var child = new ChildProcess(process, readyLine) { _onLine = onLine };
        process.OutputDataReceived += (_, e) => child.Line(e.Data);
        process.ErrorDataReceived += (_, e) => child.Line(e.Data);
        process.Exited += (_, _) => child._ready.TrySetException(new InvalidOperationException($"{file} exited: {child.Tail}"));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    private Action<string>? _onLine;

    private void Line(string? line)
    {
        if (line is null) return;
        _onLine?.Invoke(line);
        lock (_tail)
        {
            _tail.Enqueue(line);
            while (_tail.Count > 20) _tail.Dequeue();
        }
        if (_readyLine is not null && line.StartsWith(_readyLine, StringComparison.Ordinal)) _ready.TrySetResult();
    }

    public Task WaitReadyAsync(TimeSpan timeout, CancellationToken ct) => _ready.Task.WaitAsync(timeout, ct);

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _ = Kill(_process.Id, 15);
                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                try { await _process.WaitForExitAsync(grace.Token); }
                catch (OperationCanceledException) { _process.Kill(entireProcessTree: true); await _process.WaitForExitAsync(); }
            }
        }
        finally { _process.Dispose(); }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int sig);
}
