using System.Security.Cryptography;

namespace KeyProxy.Primitives;

/// <summary>Randomness for SPIs, nonces and jitter; injectable so tests can be deterministic where they need to.</summary>
public interface IRandomSource
{
    void Fill(Span<byte> destination);
}

/// <summary>The operating system's CSPRNG.</summary>
public sealed class SecureRandomSource : IRandomSource
{
    public static readonly SecureRandomSource Instance = new();

    public void Fill(Span<byte> destination) => RandomNumberGenerator.Fill(destination);
}
