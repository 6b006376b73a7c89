using System.Buffers.Binary;
using KeyProxy.Ike.Protocol;
using KeyProxy.Primitives;

namespace KeyProxy.Fuzz.Support;

/// <summary>
/// A deterministic stand-in for the CSPRNG (xorshift64*): the same seed gives the same SPIs, nonces, IVs and
/// padding, so a handshake replayed for every fuzz input derives the same keys as the one that made the seeds.
/// For fuzzing only; never a source of real keys.
/// </summary>
public sealed class SeededRandom(ulong seed) : IRandomSource
{
    private ulong _state = seed == 0 ? 0x9E3779B97F4A7C15UL : seed;

    public void Fill(Span<byte> destination)
    {
        Span<byte> word = stackalloc byte[8];
        for (var i = 0; i < destination.Length; i += 8)
        {
            _state ^= _state >> 12;
            _state ^= _state << 25;
            _state ^= _state >> 27;
            BinaryPrimitives.WriteUInt64BigEndian(word, _state * 0x2545F4914F6CDD1DUL);
            word[..Math.Min(8, destination.Length - i)].CopyTo(destination[i..]);
        }
    }
}
