using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace KeyProxy.Cluster.Tests;

/// <summary>
/// Where one silo of a test cluster listens, and whether it runs an edge (pool null: a core silo). AccessPort 0 lets
/// the edge pick its access port; a restart passes the port of the first run, so that handsets find it again.
/// </summary>
internal sealed record SiloSpec(string Name, int SiloPort, int GatewayPort, string? AddressPool, int AccessPort = 0);

/// <summary>
/// One KeyProxy silo as a real process (<c>dotnet KeyProxy.Silo.dll</c>), so that a kill -9 is a real crash:
/// output collected, ready line awaited, SIGTERM or SIGKILL on demand.
/// </summary>
internal sealed partial class SiloProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private StreamWriter? _log;
    private readonly TaskCompletionSource<string> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private SiloProcess(SiloSpec spec, Process process)
    {
        Spec = spec;
        _process = process;
    }

    public SiloSpec Spec { get; }

    public string Name => Spec.Name;

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>The admin API and dashboard base URL, from the ready line.</summary>
    public Uri BaseUrl { get; private set; } = new("http://unset");

    /// <summary>Where handsets attach (edge silos only), from the ready line.</summary>
    public IPEndPoint? AccessEndPoint { get; private set; }

    /// <summary>The file every line of the silo's output goes to as it arrives (null when none was asked for).</summary>
    public string? LogFile { get; private set; }

    /// <summary>Everything the silo printed so far (stdout and stderr).</summary>
    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>
    /// Starts the silo on Azure Table clustering and storage with fast failure detection. With <paramref name="logDirectory"/>
    /// its output also goes, line by line as it comes, to <c>{name}-{pid}.log</c> there: a failure (or a test host that
    /// dies) leaves every silo's whole log, not just the tail in the message.
    /// </summary>
    public static SiloProcess Start(SiloSpec spec, string connectionString, string clusterId, int ikePort, int natTPort,
        IReadOnlyDictionary<string, string>? settings = null, string? logDirectory = null)
    {
        var info = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        info.ArgumentList.Add(SiloAssembly());
        var env = info.Environment;
        env["KeyProxy__Clustering"] = "AzureTable";
        env["KeyProxy__StorageConnectionString"] = connectionString;
        env["KeyProxy__ClusterId"] = clusterId;
        env["KeyProxy__FastFailureDetection"] = "true";
        env["KeyProxy__DemoSubscribers"] = "false";
        env["KeyProxy__EdgeId"] = spec.Name;
        env["KeyProxy__SiloPort"] = spec.SiloPort.ToString();
        env["KeyProxy__GatewayPort"] = spec.GatewayPort.ToString();
        env["KeyProxy__HttpUrl"] = KeyProxy.Testing.AdminHttp.Url;
        env["KeyProxy__Network__PeerIkePort"] = ikePort.ToString();
        env["KeyProxy__Network__PeerNatTPort"] = natTPort.ToString();
        env["KeyProxy__Network__HandsetIkePort"] = ikePort.ToString();
        env["KeyProxy__Network__HandsetNatTPort"] = natTPort.ToString();
        env["KeyProxy__EdgeEnabled"] = spec.AddressPool is null ? "false" : "true";
        if (spec.AddressPool is not null)
        {
            env["KeyProxy__Edge__AccessEndpoint"] = $"127.0.0.1:{spec.AccessPort}";
            env["KeyProxy__Edge__AddressPool"] = spec.AddressPool;
        }

        // Extra settings of the test ("KeyProxy__Network__SessionAuditInterval" and the like).
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            env[key] = value;
        }

        // Proxy session and edge lines at Information, to tell where sessions ran.
        env["Logging__LogLevel__KeyProxy"] = "Information";
        // Which activations a silo's death made the grain directory deactivate on the survivors (issue 15).
        env["Logging__LogLevel__Orleans.Runtime.GrainDirectory"] = "Information";
        env["Logging__Console__FormatterName"] = "simple";
        env["Logging__Console__FormatterOptions__SingleLine"] = "true";
        env["Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss.fff ";

        var process = new Process { StartInfo = info };
        var silo = new SiloProcess(spec, process);
        process.OutputDataReceived += (_, e) => silo.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => silo.OnLine(e.Data);
        if (!process.Start())
        {
            throw new InvalidOperationException($"could not start silo {spec.Name}");
        }

        if (logDirectory is not null)
        {
            silo.LogFile = Path.Combine(Directory.CreateDirectory(logDirectory).FullName, $"{spec.Name}-{process.Id}.log");
            silo._log = new StreamWriter(silo.LogFile, append: false) { AutoFlush = true };
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _ = process.WaitForExitAsync().ContinueWith(
            _ => silo._ready.TrySetException(new InvalidOperationException(
                $"silo {spec.Name} exited with {process.ExitCode} before its ready line; output ({silo.LogFile ?? "no file"}):\n{silo.Tail(40)}")),
            TaskScheduler.Default);
        return silo;
    }

    /// <summary>Waits for "KeyProxy silo up: ..." and takes the URLs from it; fails with the silo's output.</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        try
        {
            await _ready.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"silo {Name} printed no ready line within {timeout}; output:\n{Tail(40)}");
        }
    }

    /// <summary>kill -9: the process dies at once, leaving its membership row and its activations behind.</summary>
    public void KillHard()
    {
        if (kill(_process.Id, 9) != 0)
        {
            throw new InvalidOperationException($"kill -9 {_process.Id} failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>SIGTERM and wait for the exit; SIGKILL if the silo is not gone within <paramref name="grace"/>. Returns the exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan grace)
    {
        if (!_process.HasExited)
        {
            _ = kill(_process.Id, 15);
            using var cts = new CancellationTokenSource(grace);
            try
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
                throw new TimeoutException($"silo {Name} did not stop within {grace} of SIGTERM; output:\n{Tail(40)}");
            }
        }

        return _process.ExitCode;
    }

    /// <summary>
    /// How long the exit of a silo killed with kill -9 may take to be seen here. The kernel ends it at once, but the test
    /// host learns of it (the child's exit and the end of its output pipes) on its own threads: on two cores kept busy
    /// (scripts/stress-faults.sh) that took more than 5 s once.
    /// </summary>
    public static readonly TimeSpan KilledExitWait = TimeSpan.FromSeconds(30);

    public async Task WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            var proc = $"/proc/{_process.Id}/stat";
            var state = File.Exists(proc) ? "still listed: " + File.ReadAllText(proc).Split(' ').ElementAtOrDefault(2) : "gone from /proc";
            throw new TimeoutException($"silo {Name} (pid {_process.Id}) not seen exiting within {timeout} ({state}); its output: {LogFile}");
        }
    }

    /// <summary>The last <paramref name="lines"/> lines of output.</summary>
    public string Tail(int lines)
    {
        var all = Output.Split('\n');
        return string.Join('\n', all[Math.Max(0, all.Length - lines)..]);
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
        lock (_output)
        {
            _log?.Dispose();
            _log = null;
        }
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
            _log?.WriteLine(line);
        }

        var match = ReadyLine().Match(line);
        if (match.Success)
        {
            BaseUrl = new Uri(match.Groups["api"].Value);
            if (match.Groups["access"].Success)
            {
                AccessEndPoint = IPEndPoint.Parse(match.Groups["access"].Value);
            }

            _ready.TrySetResult(line);
        }
    }

    /// <summary>The dotnet host running these tests (DOTNET_HOST_PATH under dotnet test), else the one on PATH.</summary>
    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path && File.Exists(path) ? path : "dotnet";

    /// <summary>
    /// KeyProxy.Silo.dll with its own runtimeconfig, deps and appsettings: the silo project's output for this
    /// configuration, or, failing that, the copy the project reference put next to this test assembly.
    /// </summary>
    internal static string SiloAssembly()
    {
        var candidates = new List<string>();
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory);
        for (var dir = testOutput; dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "KeyProxyOrleans.sln")))
            {
                var relative = Path.GetRelativePath(Path.Combine(dir.FullName, "tests", "KeyProxy.Cluster.Tests"), testOutput.FullName);
                candidates.Add(Path.Combine(dir.FullName, "src", "KeyProxy.Silo", relative, "KeyProxy.Silo.dll"));
                break;
            }
        }

        candidates.Add(Path.Combine(AppContext.BaseDirectory, "KeyProxy.Silo.dll"));
        foreach (var dll in candidates)
        {
            var dir = Path.GetDirectoryName(dll)!;
            if (File.Exists(dll) && File.Exists(Path.Combine(dir, "KeyProxy.Silo.runtimeconfig.json")) && File.Exists(Path.Combine(dir, "appsettings.json")))
            {
                return dll;
            }
        }

        throw new InvalidOperationException(
            $"KeyProxy.Silo.dll with its runtimeconfig.json and appsettings.json was not found at {string.Join(" or ", candidates)}; build src/KeyProxy.Silo");
    }

    [GeneratedRegex(@"KeyProxy silo up: dashboard (?<dashboard>https?://\S+)/dashboard, admin API (?<api>https?://\S+)/api(, edge \S+ for handsets at (?<access>\S+))?")]
    private static partial Regex ReadyLine();

    [DllImport("libc", SetLastError = true)]
#pragma warning disable SYSLIB1054 // LibraryImport needs unsafe code, which this repository keeps off.
    private static extern int kill(int pid, int signal);
#pragma warning restore SYSLIB1054
}
