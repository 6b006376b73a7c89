using System.Buffers.Binary;
using KeyProxy.Primitives;

namespace KeyProxy.Wire;

/// <summary>
/// A list of traffic selectors encoded as the body of an RFC 7296 3.13 TS payload: Number of TSs (1),
/// RESERVED (3), then 3.13.1 substructures (TS type 7 or 8, IP protocol, selector length 16 or 40, start port,
/// end port, start address, end address).
/// </summary>
internal static class SelectorBlock
{
    public static int Length(IReadOnlyList<TrafficSelector> selectors)
    {
        int length = 4;
        for (int i = 0; i < selectors.Count; i++)
            length += selectors[i].SelectorType == TrafficSelectorType.Ipv6AddressRange ? 40 : 16;
        return length;
    }

    public static WireError Validate(IReadOnlyList<TrafficSelector>? selectors, int max)
    {
        if (selectors is null)
            return WireError.BadTrafficSelector;
        if (selectors.Count > max)
            return WireError.LimitExceeded;
        for (int i = 0; i < selectors.Count; i++)
        {
            var s = selectors[i];
            if (s is null || AddressField.Validate(s.StartAddress) != WireError.None || s.EndAddress is null
                || s.StartAddress.AddressFamily != s.EndAddress.AddressFamily)
                return WireError.BadTrafficSelector;
        }

        return WireError.None;
    }

    public static void Write(ref WireWriter writer, IReadOnlyList<TrafficSelector> selectors)
    {
        writer.U8((byte)selectors.Count);
        writer.Zeros(3);
        foreach (var s in selectors)
        {
            bool v6 = s.SelectorType == TrafficSelectorType.Ipv6AddressRange;
            writer.U8((byte)s.SelectorType);
            writer.U8(s.IpProtocol);
            writer.U16((ushort)(v6 ? 40 : 16));
            writer.U16(s.StartPort);
            writer.U16(s.EndPort);
            s.StartAddress.TryWriteBytes(writer.Rest, out int n);
            writer.Skip(n);
            s.EndAddress.TryWriteBytes(writer.Rest, out n);
            writer.Skip(n);
        }
    }

    public static WireError TryRead(ref WireReader reader, int max, out TrafficSelector[] selectors)
    {
        selectors = [];
        if (!reader.TryU8(out byte count))
            return WireError.Truncated;
        var reserved = reader.TryReserved(3);
        if (reserved != WireError.None)
            return reserved;
        if (count > max)
            return WireError.LimitExceeded;
        if (count * 16 > reader.Remaining)
            return WireError.Truncated;

        var result = count == 0 ? [] : new TrafficSelector[count];
        for (int i = 0; i < count; i++)
        {
            if (!reader.TryBytes(8, out var fixedPart))
                return WireError.Truncated;
            int addressLength = (TrafficSelectorType)fixedPart[0] switch
            {
                TrafficSelectorType.Ipv4AddressRange => 4,
                TrafficSelectorType.Ipv6AddressRange => 16,
                _ => 0,
            };
            if (addressLength == 0 || BinaryPrimitives.ReadUInt16BigEndian(fixedPart[2..]) != 8 + 2 * addressLength)
                return WireError.BadTrafficSelector;
            if (!reader.TryBytes(2 * addressLength, out var addresses))
                return WireError.Truncated;
            result[i] = TrafficSelector.FromOctets(
                fixedPart[1],
                BinaryPrimitives.ReadUInt16BigEndian(fixedPart[4..]),
                BinaryPrimitives.ReadUInt16BigEndian(fixedPart[6..]),
                addresses[..addressLength],
                addresses[addressLength..]);
        }

        selectors = result;
        return WireError.None;
    }
}
