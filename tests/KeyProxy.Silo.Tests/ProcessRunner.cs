using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace KeyProxy.Silo.Tests;

/// <summary>Starts child processes for the tests, collecting their output, and signals them.</summary>
internal static partial class ProcessRunner
{
    /// <summary>Runs to completion (killed after <paramref name="timeout"/>) and returns exit code, stdout and stderr.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> Run(string fileName, IEnumerable<string> args, TimeSpan timeout, IDictionary<string, string>? environment = null)
    {
        using var process = Start(fileName, args, environment, out var stdout, out var stderr);
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            throw new TimeoutException($"{fileName} did not finish within {timeout}: {stderr}");
        }

        return (process.ExitCode, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Starts <paramref name="fileName"/>; its output lines are appended to the builders as they come.</summary>
    public static Process Start(string fileName, IEnumerable<string> args, IDictionary<string, string>? environment, out StringBuilder stdout, out StringBuilder stderr, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var output = new StringBuilder();
        var errors = new StringBuilder();
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (output)
                {
                    output.AppendLine(e.Data);
                }
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (errors)
                {
                    errors.AppendLine(e.Data);
                }
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        stdout = output;
        stderr = errors;
        return process;
    }

    /// <summary>Sends SIGTERM, as systemd or a container runtime would.</summary>
    public static void Terminate(Process process)
    {
        if (kill(process.Id, 15) != 0)
        {
            throw new InvalidOperationException($"kill({process.Id}, SIGTERM) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [DllImport("libc", SetLastError = true)]
#pragma warning disable SYSLIB1054 // LibraryImport needs unsafe code, which this repository keeps off.
    private static extern int kill(int pid, int signal);
#pragma warning restore SYSLIB1054
}
