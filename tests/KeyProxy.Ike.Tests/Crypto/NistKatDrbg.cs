using System.Security.Cryptography;

namespace KeyProxy.Ike.Tests.Crypto;

/// <summary>
/// The AES-256 CTR_DRBG without derivation function (SP 800-90A 10.2.1) that NIST's PQC known-answer files are made
/// with (its `randombytes_init` with a 48-byte seed, and `randombytes`, whose every call ends with an update).
/// </summary>
internal sealed class NistKatDrbg : IDisposable
{
    private readonly Aes _aes = Aes.Create();
    private readonly byte[] _v = new byte[16];

    public NistKatDrbg(ReadOnlySpan<byte> seed)
    {
        if (seed.Length != 48) throw new ArgumentException("the seed is 48 bytes", nameof(seed));
        _aes.Key = new byte[32];
        Update(seed);
    }

    /// <summary>One `randombytes(out, length)` call.</summary>
    public byte[] Generate(int length)
    {
        var output = new byte[length];
        for (int offset = 0; offset < length; offset += 16)
        {
            Increment();
            var block = _aes.EncryptEcb(_v, PaddingMode.None);
            block.AsSpan(0, Math.Min(16, length - offset)).CopyTo(output.AsSpan(offset));
        }
        Update([]);
        return output;
    }

    private void Update(ReadOnlySpan<byte> provided)
    {
        var temp = new byte[48];
        for (int i = 0; i < 3; i++)
        {
            Increment();
            _aes.EncryptEcb(_v, PaddingMode.None).CopyTo(temp, 16 * i);
        }
        for (int i = 0; i < provided.Length; i++) temp[i] ^= provided[i];
        _aes.Key = temp[..32];
        temp.AsSpan(32).CopyTo(_v);
    }

    private void Increment()
    {
        for (int i = 15; i >= 0; i--)
            if (++_v[i] != 0) break;
    }

    public void Dispose() => _aes.Dispose();
}
