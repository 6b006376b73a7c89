namespace KeyProxy.Fuzz.Support;

/// <summary>With KEYPROXY_FUZZ_TRACE=1 (replay only), harnesses say how far an input got, to check that seeds go deep.</summary>
public static class Trace
{
    public static readonly bool Enabled = Environment.GetEnvironmentVariable("KEYPROXY_FUZZ_TRACE") == "1";

    public static void Write(string line) => Console.Error.WriteLine(line);
}
