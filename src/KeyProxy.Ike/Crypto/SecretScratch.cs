using System.Buffers;
using System.Security.Cryptography;

namespace KeyProxy.Ike.Crypto;

/// <summary>
/// A short-lived buffer for secret bytes (prf+ inputs, seeds, key material before it is split): the caller's stack
/// buffer when the length fits, else an array from the shared pool. Dispose zeroes it and returns a pooled array.
/// </summary>
internal ref struct SecretScratch
{
    /// <summary>What callers stackalloc: a prf+ input of two 256-octet nonces and a MODP-2048 secret fits; longer ones are pooled.</summary>
    public const int StackSize = 1024;

    private byte[]? _rented;

    public SecretScratch(Span<byte> stack, int length)
    {
        if (length <= stack.Length)
        {
            _rented = null;
            Span = stack[..length];
        }
        else
        {
            _rented = ArrayPool<byte>.Shared.Rent(length);
            Span = _rented.AsSpan(0, length);
        }
    }

    public Span<byte> Span { get; private set; }

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(Span);
        Span = default;
        if (_rented is not null)
        {
            ArrayPool<byte>.Shared.Return(_rented);
            _rented = null;
        }
    }
}
