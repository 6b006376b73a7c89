using System.Buffers.Binary;

namespace KeyProxy.Wire;

/// <summary>Big-endian writes into a span the caller has sized beforehand (from an encoded-length computation).</summary>
internal ref struct WireWriter(Span<byte> destination)
{
    readonly Span<byte> _data = destination;
    int _pos;

    public readonly int Position => _pos;

    public void U8(byte value) => _data[_pos++] = value;

    public void U16(ushort value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(_data[_pos..], value);
        _pos += 2;
    }

    public void U32(uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(_data[_pos..], value);
        _pos += 4;
    }

    public void U64(ulong value)
    {
        BinaryPrimitives.WriteUInt64BigEndian(_data[_pos..], value);
        _pos += 8;
    }

    public void Nonce(Nonce16 value)
    {
        value.WriteTo(_data[_pos..]);
        _pos += Nonce16.Size;
    }

    public void Bytes(ReadOnlySpan<byte> value)
    {
        value.CopyTo(_data[_pos..]);
        _pos += value.Length;
    }

    public void Zeros(int count)
    {
        _data.Slice(_pos, count).Clear();
        _pos += count;
    }

    /// <summary>A slice of what follows, for a nested writer; <see cref="Skip"/> past it afterwards.</summary>
    public readonly Span<byte> Rest => _data[_pos..];

    public void Skip(int count) => _pos += count;
}
