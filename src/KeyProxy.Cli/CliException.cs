namespace KeyProxy.Cli;

/// <summary>A failure the CLI reports as one line on stderr with its exit code (<see cref="ExitCodes"/>), no stack trace.</summary>
public sealed class CliException(string message, int exitCode = ExitCodes.Failed) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>The CLI's exit codes.</summary>
public static class ExitCodes
{
    /// <summary>Done.</summary>
    public const int Ok = 0;

    /// <summary>The API refused or failed (4xx, 5xx: not found, invalid profile), or could not be reached.</summary>
    public const int Failed = 1;

    /// <summary>The command line was wrong: unknown command or option, missing argument, unreadable input file.</summary>
    public const int Usage = 2;
}
