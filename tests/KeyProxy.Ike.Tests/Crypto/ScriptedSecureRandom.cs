using Org.BouncyCastle.Security;

namespace KeyProxy.Ike.Tests.Crypto;

/// <summary>A BouncyCastle random source that hands out fixed bytes in order (known-answer tests), and fails when they run out.</summary>
internal sealed class ScriptedSecureRandom(params byte[][] chunks) : SecureRandom
{
    private readonly Queue<byte> _bytes = new(chunks.SelectMany(c => c));

    public int Remaining => _bytes.Count;

    public override void NextBytes(byte[] buf) => NextBytes(buf.AsSpan());

    public override void NextBytes(byte[] buf, int off, int len) => NextBytes(buf.AsSpan(off, len));

    public override void NextBytes(Span<byte> buffer)
    {
        if (buffer.Length > _bytes.Count) throw new InvalidOperationException($"asked for {buffer.Length} bytes, {_bytes.Count} scripted");
        for (int i = 0; i < buffer.Length; i++) buffer[i] = _bytes.Dequeue();
    }
}
