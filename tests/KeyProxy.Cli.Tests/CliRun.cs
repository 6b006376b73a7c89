using KeyProxy.Cli;

namespace KeyProxy.Cli.Tests;

/// <summary>One run of the CLI's entry point in this process: exit code and what it printed.</summary>
public sealed record CliRun(int ExitCode, string Out, string Err)
{
    /// <summary>Runs <c>keyproxy args...</c> with <paramref name="environment"/> as its only environment variables.</summary>
    public static async Task<CliRun> RunAsync(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await KeyProxyCli.RunAsync(args, output, error, name => environment is not null && environment.TryGetValue(name, out var v) ? v : null,
            TestContext.Current.CancellationToken);
        return new CliRun(code, output.ToString(), error.ToString());
    }

    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Out}\nstderr:\n{Err}";
}
