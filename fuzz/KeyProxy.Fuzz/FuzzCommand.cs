using KeyProxy.Fuzz.Harnesses;
using KeyProxy.Fuzz.Seeds;
using SharpFuzz;

namespace KeyProxy.Fuzz;

/// <summary>
/// <c>keyproxy-fuzz &lt;target&gt;</c> runs one harness under afl-fuzz (SharpFuzz's in-process fork server,
/// <see cref="Fuzzer.Run(Action{Stream})"/>); <c>keyproxy-fuzz replay &lt;target&gt; &lt;file|dir&gt;...</c> runs
/// inputs once without afl (crash triage); <c>keyproxy-fuzz seed &lt;dir&gt;</c> writes the seed corpora.
/// </summary>
public static class FuzzCommand
{
    public static readonly IReadOnlyDictionary<string, ReadOnlySpanAction> Targets = new Dictionary<string, ReadOnlySpanAction>
    {
        ["ike-parse"] = IkeParseHarness.Run,
        ["ike-decrypt"] = IkeDecryptHarness.Run,
        ["esp"] = EspHarness.Run,
        ["wire"] = WireHarness.Run,
        ["access"] = AccessHarness.Run,
    };

    public static int Run(string[] args)
    {
        if (args.Length == 2 && args[0] == "seed")
        {
            SeedWriter.WriteAll(args[1], Console.Out);
            return 0;
        }
        if (args.Length >= 3 && args[0] == "replay" && Targets.TryGetValue(args[1], out var replayed))
            return Replay(replayed, args[2..]);
        if (args.Length == 1 && Targets.TryGetValue(args[0], out var target))
        {
            // SharpFuzz's AFL fork server hands each input over as a stream; the harnesses take a span. Its very first
            // run reads stdin before afl-fuzz has written the first input, so that run may see an empty input; every
            // harness reaches instrumented code even then, or afl-fuzz aborts ("No instrumentation detected").
            var buffer = new MemoryStream();
            Fuzzer.Run(stream =>
            {
                buffer.SetLength(0);
                stream.CopyTo(buffer);
                target(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
            });
            return 0;
        }
        Console.Error.WriteLine($"usage: keyproxy-fuzz <{string.Join('|', Targets.Keys)}>\n" +
                                "       keyproxy-fuzz replay <target> <file|dir>...\n" +
                                "       keyproxy-fuzz seed <corpus-dir>");
        return 2;
    }

    /// <summary>Runs each input once; an exception is reported with its input and makes the exit code 1.</summary>
    private static int Replay(ReadOnlySpanAction target, string[] paths)
    {
        var files = paths.SelectMany<string, string>(p => Directory.Exists(p) ? Directory.GetFiles(p).Order() : [p]).ToList();
        var failed = 0;
        foreach (var file in files)
        {
            try
            {
                target(File.ReadAllBytes(file));
            }
            catch (Exception e)
            {
                failed++;
                Console.Error.WriteLine($"{file}: {e}");
            }
        }
        Console.WriteLine($"{files.Count} inputs, {failed} failed");
        return failed == 0 ? 0 : 1;
    }
}
