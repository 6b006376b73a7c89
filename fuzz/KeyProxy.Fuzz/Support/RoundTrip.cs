using KeyProxy.Wire;

namespace KeyProxy.Fuzz.Support;

/// <summary>Checks that a decoded message encodes back to exactly the bytes it was decoded from.</summary>
public static class RoundTrip
{
    public delegate WireError Writer(Span<byte> destination, out int written);

    public static void Check(string decoder, ReadOnlySpan<byte> original, Writer write)
    {
        var buffer = new byte[original.Length + 64];
        var error = write(buffer, out var written);
        if (error != WireError.None)
            throw new RoundTripMismatchException(decoder, $"writer refused the decoded message: {error}");
        if (!buffer.AsSpan(0, written).SequenceEqual(original))
            throw new RoundTripMismatchException(decoder, $"{written} bytes written for {original.Length} read");
    }
}
