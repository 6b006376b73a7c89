using KeyProxy.Primitives;

namespace KeyProxy.Wire.Tests;

/// <summary>Deterministic "random" bytes: a counter starting at <c>start</c>, for reproducible nonces.</summary>
internal sealed class FixedRandom(byte start) : IRandomSource
{
    byte _next = start;

    public void Fill(Span<byte> destination)
    {
        for (int i = 0; i < destination.Length; i++)
            destination[i] = _next++;
    }
}
