using System.Buffers.Binary;

namespace KeyProxy.Wire;

/// <summary>Big-endian reads from a span with a position; every read checks the remaining length.</summary>
internal ref struct WireReader(ReadOnlySpan<byte> data)
{
    readonly ReadOnlySpan<byte> _data = data;
    int _pos;

    public readonly int Position => _pos;

    public readonly int Remaining => _data.Length - _pos;

    public bool TryU8(out byte value)
    {
        if (Remaining < 1) { value = 0; return false; }
        value = _data[_pos++];
        return true;
    }

    public bool TryU16(out ushort value)
    {
        if (Remaining < 2) { value = 0; return false; }
        value = BinaryPrimitives.ReadUInt16BigEndian(_data[_pos..]);
        _pos += 2;
        return true;
    }

    public bool TryU32(out uint value)
    {
        if (Remaining < 4) { value = 0; return false; }
        value = BinaryPrimitives.ReadUInt32BigEndian(_data[_pos..]);
        _pos += 4;
        return true;
    }

    public bool TryU64(out ulong value)
    {
        if (Remaining < 8) { value = 0; return false; }
        value = BinaryPrimitives.ReadUInt64BigEndian(_data[_pos..]);
        _pos += 8;
        return true;
    }

    public bool TryNonce(out Nonce16 value)
    {
        if (Remaining < Nonce16.Size) { value = default; return false; }
        value = Nonce16.Read(_data[_pos..]);
        _pos += Nonce16.Size;
        return true;
    }

    public bool TryBytes(int count, out ReadOnlySpan<byte> value)
    {
        if (count < 0 || Remaining < count) { value = default; return false; }
        value = _data.Slice(_pos, count);
        _pos += count;
        return true;
    }

    /// <summary>Reads <paramref name="count"/> bytes that must all be zero.</summary>
    public WireError TryReserved(int count)
    {
        if (!TryBytes(count, out var bytes))
            return WireError.Truncated;
        return bytes.ContainsAnyExcept((byte)0) ? WireError.ReservedNotZero : WireError.None;
    }

    public readonly ReadOnlySpan<byte> Rest => _data[_pos..];
}
