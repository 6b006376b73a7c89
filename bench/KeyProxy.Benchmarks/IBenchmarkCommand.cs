namespace KeyProxy.Benchmarks;

/// <summary>One benchmark command (`dotnet run -c Release --project bench/KeyProxy.Benchmarks -- NAME [options]`). One file per command; register it in <see cref="Program"/>.</summary>
internal interface IBenchmarkCommand
{
    string Name { get; }

    string Description { get; }

    /// <summary>Runs the command with the arguments after its name; returns the process exit code.</summary>
    Task<int> RunAsync(string[] args);
}
