using System.Runtime.InteropServices;

namespace KeyProxy.Edge.Tun;

/// <summary>
/// The few libc calls the edge's packet I/O needs (Linux only): the TUN device, poll, an eventfd, netlink, and
/// recvmmsg/sendmmsg for several datagrams per system call on the access socket.
/// </summary>
internal static class LinuxNative
{
    public const int O_RDWR = 0x2, O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000;
    public const int EAGAIN = 11, EINTR = 4, EPERM = 1, EACCES = 13, ENOENT = 2, EEXIST = 17, EBUSY = 16;
    public const short POLLIN = 0x1;
    public const int MSG_DONTWAIT = 0x40;

    /// <summary>linux/if_tun.h: _IOW('T', 202, int).</summary>
    public const uint TUNSETIFF = 0x400454ca;
    public const short IFF_TUN = 0x0001, IFF_NO_PI = 0x1000, IFF_MULTI_QUEUE = 0x0100;

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    /// <summary>struct iovec (LP64).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct IoVec
    {
        public nint Base;
        public nuint Length;
    }

    /// <summary>struct mmsghdr: a struct msghdr and the bytes the call moved for it (LP64: 64 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct MMsgHdr
    {
        public nint Name;
        public uint NameLength;
        public nint Iov;
        public nuint IovLength;
        public nint Control;
        public nuint ControlLength;
        public int Flags;
        private readonly int _padding; // struct msghdr ends 8-aligned (56 bytes)
        public uint Length;
        private readonly int _tail;
    }

    [DllImport("libc", SetLastError = true, EntryPoint = "recvmmsg")]
    public static extern int RecvMMsg(SafeHandle fd, nint messages, uint count, int flags, nint timeout);

    [DllImport("libc", SetLastError = true, EntryPoint = "sendmmsg")]
    public static extern int SendMMsg(SafeHandle fd, nint messages, uint count, int flags);

    [DllImport("libc", SetLastError = true, EntryPoint = "open")]
    public static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", SetLastError = true, EntryPoint = "close")]
    public static extern int Close(int fd);

    [DllImport("libc", SetLastError = true, EntryPoint = "read")]
    public static extern nint Read(SafeHandle fd, ref byte buffer, nint count);

    [DllImport("libc", SetLastError = true, EntryPoint = "write")]
    public static extern nint Write(SafeHandle fd, ref byte buffer, nint count);

    [DllImport("libc", SetLastError = true, EntryPoint = "write")]
    public static extern nint Write(int fd, ref byte buffer, nint count);

    [DllImport("libc", SetLastError = true, EntryPoint = "ioctl")]
    public static extern int Ioctl(int fd, nuint request, ref byte argument);

    [DllImport("libc", SetLastError = true, EntryPoint = "poll")]
    public static extern int Poll([In, Out] PollFd[] fds, nuint count, int timeoutMilliseconds);

    [DllImport("libc", SetLastError = true, EntryPoint = "eventfd")]
    public static extern int EventFd(uint initial, int flags);

    [DllImport("libc", SetLastError = true, EntryPoint = "socket")]
    public static extern int Socket(int domain, int type, int protocol);

    [DllImport("libc", SetLastError = true, EntryPoint = "send")]
    public static extern nint Send(int fd, ref byte buffer, nint count, int flags);

    [DllImport("libc", SetLastError = true, EntryPoint = "recv")]
    public static extern nint Receive(int fd, ref byte buffer, nint count, int flags);

    [DllImport("libc", SetLastError = true, EntryPoint = "if_nametoindex")]
    public static extern uint IfNameToIndex([MarshalAs(UnmanagedType.LPUTF8Str)] string name);

    /// <summary>Whether this process holds CAP_NET_ADMIN in its effective set (capability 12, /proc/self/status CapEff).</summary>
    public static bool HasNetAdmin()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("CapEff:", StringComparison.Ordinal))
                    return (Convert.ToUInt64(line[7..].Trim(), 16) & (1UL << 12)) != 0;
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return false;
    }

    public static string Describe(int errno) => $"errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)})";
}
