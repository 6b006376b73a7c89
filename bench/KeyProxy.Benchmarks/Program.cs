namespace KeyProxy.Benchmarks;

internal static class Program
{
    /// <summary>Every command; add new ones here.</summary>
    private static readonly IBenchmarkCommand[] Commands =
    [
        new DhCommand(),
        new KemCommand(),
        new HandshakeCommand(),
        new EspCommand(),
        new TunCommand(),
        new RelayCommand(),
        new EspFloodCommand(),
    ];

    private static async Task<int> Main(string[] args)
    {
        var command = args.Length > 0 ? Commands.FirstOrDefault(c => c.Name == args[0]) : null;
        if (command is null)
        {
            Console.Error.WriteLine("usage: dotnet run -c Release --project bench/KeyProxy.Benchmarks -- <command> [options]");
            foreach (var c in Commands)
            {
                Console.Error.WriteLine($"  {c.Name,-12} {c.Description}");
            }

            return args.Length == 0 || args[0] is "-h" or "--help" or "help" ? 0 : 2;
        }

#if DEBUG
        Console.Error.WriteLine("warning: Debug build; run with -c Release for meaningful figures");
#endif
        return await command.RunAsync(args[1..]);
    }
}
