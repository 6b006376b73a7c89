using System.Buffers.Binary;

namespace KeyProxy.Wire.Ip;

/// <summary>
/// The Internet checksum (RFC 1071): the 16-bit one's complement of the one's complement sum of the data
/// taken as big-endian 16-bit words. Incremental: <see cref="Add(ReadOnlySpan{byte})"/> may be called on
/// consecutive pieces of any length (an odd trailing byte is carried into the next piece, RFC 1071 2(A)).
/// </summary>
public struct InternetChecksum
{
    ulong _sum;
    bool _odd;

    /// <summary>Adds the next bytes of the checksummed data.</summary>
    public void Add(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
            return;
        ulong sum = _sum;
        if (_odd)
        {
            // the previous piece ended in the high byte of a word: this byte is its low byte
            sum += data[0];
            data = data[1..];
            _odd = false;
        }

        while (data.Length >= 8)
        {
            ulong word = BinaryPrimitives.ReadUInt64BigEndian(data);
            sum += (word >> 48) + ((word >> 32) & 0xFFFF) + ((word >> 16) & 0xFFFF) + (word & 0xFFFF);
            data = data[8..];
        }

        while (data.Length >= 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(data);
            data = data[2..];
        }

        if (data.Length == 1)
        {
            sum += (ulong)data[0] << 8;
            _odd = true;
        }

        _sum = sum;
    }

    /// <summary>Adds one 16-bit word (the data must be at an even offset).</summary>
    public void AddUInt16(ushort value) => _sum += value;

    /// <summary>Adds a 32-bit value as two words (the data must be at an even offset).</summary>
    public void AddUInt32(uint value) => _sum += (value >> 16) + (value & 0xFFFF);

    /// <summary>Adds an address as 2 or 8 words (pseudo-headers, RFC 768 and RFC 8200 8.1).</summary>
    public void AddAddress(in IpAddressValue address)
    {
        if (address.IsV4)
        {
            AddUInt32((uint)address.Value);
            return;
        }

        UInt128 v = address.Value;
        AddUInt32((uint)(v >> 96));
        AddUInt32((uint)(v >> 64));
        AddUInt32((uint)(v >> 32));
        AddUInt32((uint)v);
    }

    /// <summary>The folded one's complement sum, not complemented.</summary>
    public readonly ushort Sum()
    {
        ulong sum = _sum;
        while (sum >> 16 != 0)
            sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)sum;
    }

    /// <summary>The checksum to put in a header: the complement of <see cref="Sum"/>.</summary>
    public readonly ushort Finish() => (ushort)~Sum();

    /// <summary>The checksum of one contiguous buffer.</summary>
    public static ushort Compute(ReadOnlySpan<byte> data)
    {
        var c = new InternetChecksum();
        c.Add(data);
        return c.Finish();
    }
}
