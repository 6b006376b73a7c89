using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace KeyProxy.Testing;

/// <summary>
/// One Azurite for the whole test assembly, started through infra/azurite/azurite.sh (installing it first when
/// missing) on free ports in a private directory. If it cannot start, every test fails with the reason.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    private string? _dir;
    private string? _script;

    /// <summary>Connection string of the running Azurite.</summary>
    public string ConnectionString { get; private set; } = string.Empty;

    /// <summary>A fresh table name (Azure rules: letters and digits, starting with a letter).</summary>
    public static string UniqueTableName(string prefix) => prefix + Guid.NewGuid().ToString("N")[..20];

    public async ValueTask InitializeAsync()
    {
        _script = Path.Combine(FindRepositoryRoot(), "infra", "azurite", "azurite.sh");
        _dir = Directory.CreateTempSubdirectory("keyproxy-azurite-").FullName;
        await Run(TimeSpan.FromMinutes(5), "install");
        int table = FreePort(), blob = FreePort(), queue = FreePort();
        string output = await Run(TimeSpan.FromSeconds(30), "start", "--dir", _dir,
            "--table-port", table.ToString(), "--blob-port", blob.ToString(), "--queue-port", queue.ToString());
        ConnectionString = output.Trim().Split('\n')[^1].Trim();
        if (!ConnectionString.Contains("TableEndpoint=", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"azurite.sh start printed no connection string: {output}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_dir is null)
        {
            return;
        }

        try
        {
            await Run(TimeSpan.FromSeconds(15), "stop", "--dir", _dir);
        }
        finally
        {
            try
            {
                Directory.Delete(_dir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private async Task<string> Run(TimeSpan timeout, params string[] args)
    {
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(_script!);
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start bash");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"azurite.sh {string.Join(' ', args)} did not finish within {timeout}.");
        }

        string output = await stdout;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"Azurite is needed by these tests and could not be started: azurite.sh {args[0]} exited with {process.ExitCode}: {await stderr}");
        }

        return output;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "infra", "azurite", "azurite.sh")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"infra/azurite/azurite.sh not found above {AppContext.BaseDirectory}.");
    }
}
