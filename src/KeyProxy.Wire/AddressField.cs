using System.Net;
using System.Net.Sockets;
using KeyProxy.Wire.Ip;

namespace KeyProxy.Wire;

/// <summary>An address on the wire: family byte (4 or 6, <see cref="IpFamily"/>) then 4 or 16 bytes (docs/wire.md, "Addresses").</summary>
internal static class AddressField
{
    public static int Length(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 ? 17 : 5;

    public static WireError Validate(IPAddress? address) =>
        address is { AddressFamily: AddressFamily.InterNetwork or AddressFamily.InterNetworkV6 } ? WireError.None : WireError.BadAddress;

    public static void Write(ref WireWriter writer, IPAddress address)
    {
        bool v6 = address.AddressFamily == AddressFamily.InterNetworkV6;
        writer.U8((byte)(v6 ? IpFamily.V6 : IpFamily.V4));
        address.TryWriteBytes(writer.Rest, out int written);
        writer.Skip(written);
    }

    public static WireError TryRead(ref WireReader reader, out IPAddress address)
    {
        address = IPAddress.None;
        if (!reader.TryU8(out byte family))
            return WireError.Truncated;
        int length = family switch { (byte)IpFamily.V4 => 4, (byte)IpFamily.V6 => 16, _ => 0 };
        if (length == 0)
            return WireError.BadAddress;
        if (!reader.TryBytes(length, out var bytes))
            return WireError.Truncated;
        address = new IPAddress(bytes);
        return WireError.None;
    }
}
