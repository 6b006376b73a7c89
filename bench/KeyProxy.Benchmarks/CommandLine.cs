namespace KeyProxy.Benchmarks;

/// <summary>Tiny `--name value` option reader shared by the commands.</summary>
internal static class CommandLine
{
    public static string? Option(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }

    public static double Option(string[] args, string name, double defaultValue) =>
        Option(args, name) is { } text ? double.Parse(text, System.Globalization.CultureInfo.InvariantCulture) : defaultValue;

    public static int Option(string[] args, string name, int defaultValue) =>
        Option(args, name) is { } text ? int.Parse(text, System.Globalization.CultureInfo.InvariantCulture) : defaultValue;

    public static bool Flag(string[] args, string name) => Array.IndexOf(args, name) >= 0;
}
