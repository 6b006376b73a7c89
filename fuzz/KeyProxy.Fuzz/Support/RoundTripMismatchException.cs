namespace KeyProxy.Fuzz.Support;

/// <summary>
/// A decoder accepted bytes that its own writer does not reproduce, or that the writer refuses: the strict wire
/// formats (docs/wire.md, Conventions) allow exactly one encoding per message. Thrown by a harness, so afl-fuzz
/// records the input as a crash.
/// </summary>
public sealed class RoundTripMismatchException(string decoder, string detail)
    : Exception($"{decoder}: accepted input does not round-trip ({detail})");
