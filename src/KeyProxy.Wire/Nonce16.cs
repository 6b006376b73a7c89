using System.Buffers.Binary;
using KeyProxy.Primitives;

namespace KeyProxy.Wire;

/// <summary>A 16-byte nonce (handset or edge nonce) held inline, big-endian in <see cref="Value"/>.</summary>
public readonly record struct Nonce16(UInt128 Value)
{
    public const int Size = 16;

    public static Nonce16 Read(ReadOnlySpan<byte> source) => new(BinaryPrimitives.ReadUInt128BigEndian(source));

    public static Nonce16 Create(IRandomSource random)
    {
        Span<byte> bytes = stackalloc byte[Size];
        random.Fill(bytes);
        return Read(bytes);
    }

    public void WriteTo(Span<byte> destination) => BinaryPrimitives.WriteUInt128BigEndian(destination, Value);

    public byte[] ToArray()
    {
        var bytes = new byte[Size];
        WriteTo(bytes);
        return bytes;
    }

    public override string ToString() => Value.ToString("x32");
}
