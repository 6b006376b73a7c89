using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace KeyProxy.Wire.Ip;

/// <summary>
/// An IPv4 or IPv6 address stored inline (no heap object): the address bytes as a big-endian
/// <see cref="UInt128"/> (IPv4 in the low 32 bits) and the family. Usable as a dictionary key without allocation.
/// </summary>
public readonly record struct IpAddressValue(IpFamily Family, UInt128 Value)
{
    public bool IsV4 => Family == IpFamily.V4;

    public bool IsV6 => Family == IpFamily.V6;

    /// <summary>Address length in bytes: 4, 16, or 0 for <see cref="IpFamily.None"/>.</summary>
    public int Length => Family switch { IpFamily.V4 => 4, IpFamily.V6 => 16, _ => 0 };

    public static IpAddressValue FromV4(uint address) => new(IpFamily.V4, address);

    /// <summary>The address in 4 (IPv4) or 16 (IPv6) network-order bytes; any other length gives <c>default</c>.</summary>
    public static IpAddressValue FromBytes(ReadOnlySpan<byte> address) => address.Length switch
    {
        4 => new(IpFamily.V4, BinaryPrimitives.ReadUInt32BigEndian(address)),
        16 => new(IpFamily.V6, BinaryPrimitives.ReadUInt128BigEndian(address)),
        _ => default,
    };

    public static IpAddressValue FromIPAddress(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        return address.TryWriteBytes(bytes, out int written) ? FromBytes(bytes[..written]) : default;
    }

    public IPAddress ToIPAddress()
    {
        Span<byte> bytes = stackalloc byte[16];
        int n = WriteTo(bytes);
        return n == 0 ? IPAddress.None : new IPAddress(bytes[..n]);
    }

    /// <summary>Writes the 4 or 16 address bytes; returns how many (0 for <see cref="IpFamily.None"/>).</summary>
    public int WriteTo(Span<byte> destination)
    {
        switch (Family)
        {
            case IpFamily.V4:
                BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)Value);
                return 4;
            case IpFamily.V6:
                BinaryPrimitives.WriteUInt128BigEndian(destination, Value);
                return 16;
            default:
                return 0;
        }
    }

    /// <summary>True when <paramref name="address"/> (4 or 16 bytes, network order) is this address.</summary>
    public bool Equals(ReadOnlySpan<byte> address) => address.Length switch
    {
        4 => Family == IpFamily.V4 && (uint)Value == BinaryPrimitives.ReadUInt32BigEndian(address),
        16 => Family == IpFamily.V6 && Value == BinaryPrimitives.ReadUInt128BigEndian(address),
        _ => false,
    };

    public static AddressFamily ToAddressFamily(IpFamily family) =>
        family == IpFamily.V6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;

    public override string ToString() => Family == IpFamily.None ? "none" : ToIPAddress().ToString();
}
