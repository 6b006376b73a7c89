using System.Buffers.Binary;
using System.Runtime.InteropServices;
using KeyProxy.Wire.Ip;

namespace KeyProxy.Edge.Tun;

/// <summary>
/// rtnetlink (RFC 3549; linux/rtnetlink.h) for the TUN device: bring the link up with an MTU, and route the edge's pool
/// prefix to it. The route goes with the device when the edge closes it (or dies): nothing to clean up.
/// </summary>
internal static class RouteNetlink
{
    private const int AfNetlink = 16, SockRaw = 3, SockCloexec = 0x80000, NetlinkRoute = 0;
    private const ushort RtmNewLink = 16, RtmNewRoute = 24, NlmsgError = 2;
    private const ushort NlmFRequest = 0x1, NlmFAck = 0x4, NlmFExcl = 0x200, NlmFCreate = 0x400;
    private const ushort IflaMtu = 4, RtaDst = 1, RtaOif = 4;
    private const byte RtTableMain = 254, RtprotStatic = 4, RtScopeLink = 253, RtnUnicast = 1;
    private const int AfInet = 2, AfInet6 = 10;

    /// <summary>Sets the link up (IFF_UP) with <paramref name="mtu"/>.</summary>
    public static void SetUp(int index, int mtu)
    {
        var message = new byte[16 + 16 + 8];
        int at = Header(message, RtmNewLink, NlmFRequest | NlmFAck);
        // struct ifinfomsg: family, pad, type, index, flags, change
        BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(at + 4), index);
        BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(at + 8), 1); // IFF_UP
        BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(at + 12), 1);
        at += 16;
        at = Attribute(message, at, IflaMtu, stackalloc byte[4] { (byte)mtu, (byte)(mtu >> 8), (byte)(mtu >> 16), (byte)(mtu >> 24) });
        Transact(message, at, "set the TUN device up");
    }

    /// <summary>Adds "<paramref name="prefix"/> dev &lt;index&gt;" to the main table; fails if the prefix is routed there already.</summary>
    public static void AddRoute(int index, IpAddressValue network, int prefixLength)
    {
        var message = new byte[16 + 12 + 8 + 20 + 8];
        int at = Header(message, RtmNewRoute, NlmFRequest | NlmFAck | NlmFCreate | NlmFExcl);
        // struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags
        message[at] = (byte)(network.IsV4 ? AfInet : AfInet6);
        message[at + 1] = (byte)prefixLength;
        message[at + 4] = RtTableMain;
        message[at + 5] = RtprotStatic;
        message[at + 6] = RtScopeLink;
        message[at + 7] = RtnUnicast;
        at += 12;
        Span<byte> address = stackalloc byte[16];
        int length = network.WriteTo(address);
        at = Attribute(message, at, RtaDst, address[..length]);
        Span<byte> oif = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(oif, index);
        at = Attribute(message, at, RtaOif, oif);
        Transact(message, at, $"route {network}/{prefixLength} to the TUN device");
    }

    private static int Header(byte[] message, ushort type, ushort flags)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(4), type);
        BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(6), flags);
        BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(8), 1); // sequence
        return 16;
    }

    private static int Attribute(byte[] message, int at, ushort type, ReadOnlySpan<byte> value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(at), (ushort)(4 + value.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(at + 2), type);
        value.CopyTo(message.AsSpan(at + 4));
        return at + ((4 + value.Length + 3) & ~3);
    }

    /// <summary>Sends one request and reads its acknowledgement (NLMSG_ERROR with error 0); throws with the errno otherwise.</summary>
    private static void Transact(byte[] message, int length, string what)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(message, (uint)length);
        int fd = LinuxNative.Socket(AfNetlink, SockRaw | SockCloexec, NetlinkRoute);
        if (fd < 0) throw new TunException($"cannot open a netlink socket to {what}: {LinuxNative.Describe(Marshal.GetLastPInvokeError())}");
        try
        {
            if (LinuxNative.Send(fd, ref message[0], length, 0) != length)
                throw new TunException($"cannot {what}: netlink send failed, {LinuxNative.Describe(Marshal.GetLastPInvokeError())}");
            var answer = new byte[4096];
            nint n = LinuxNative.Receive(fd, ref answer[0], answer.Length, 0);
            if (n < 16 + 4)
                throw new TunException($"cannot {what}: no netlink answer, {LinuxNative.Describe(Marshal.GetLastPInvokeError())}");
            if (BinaryPrimitives.ReadUInt16LittleEndian(answer.AsSpan(4)) != NlmsgError)
                throw new TunException($"cannot {what}: unexpected netlink answer");
            int error = -BinaryPrimitives.ReadInt32LittleEndian(answer.AsSpan(16));
            if (error == LinuxNative.EEXIST)
                throw new TunException($"cannot {what}: the prefix is routed already (another edge's pool, or a route an operator added)");
            if (error != 0) throw new TunException($"cannot {what}: {LinuxNative.Describe(error)}");
        }
        finally
        {
            LinuxNative.Close(fd);
        }
    }
}
