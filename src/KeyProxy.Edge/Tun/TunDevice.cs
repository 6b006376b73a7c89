using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;
using KeyProxy.Abstractions;
using KeyProxy.Wire.Ip;

namespace KeyProxy.Edge.Tun;

/// <summary>
/// A TUN device the edge creates (IFF_TUN | IFF_NO_PI: whole IP packets, no packet-information prefix; IFF_MULTI_QUEUE
/// for more than one queue), up, with the pool prefix routed to it. One non-blocking file descriptor per queue, whatever
/// the number of attached handsets. The device is not persistent: closing its descriptors removes it and its route.
/// </summary>
internal sealed class TunDevice : IDisposable
{
    // SafeHandles: a write racing the edge's stop keeps its descriptor open until it returns (never a reused number).
    private readonly SafeFileHandle[] _queues;
    private readonly int _wakeup;
    private int _disposed;

    private TunDevice(string name, int index, SafeFileHandle[] queues, int wakeup)
    {
        Name = name;
        Index = index;
        _queues = queues;
        _wakeup = wakeup;
    }

    public string Name { get; }

    public int Index { get; }

    public int Queues => _queues.Length;

    /// <summary>
    /// Creates the device (<paramref name="namePattern"/> may hold "%d" for the kernel to number it), sets it up with
    /// <paramref name="mtu"/> and routes <paramref name="pool"/> to it. Throws <see cref="TunException"/> saying what is
    /// missing: Linux, /dev/net/tun, CAP_NET_ADMIN, a free prefix.
    /// </summary>
    public static TunDevice Create(string namePattern, int queues, int mtu, string pool)
    {
        if (!OperatingSystem.IsLinux())
            throw new TunException($"{EdgeOptions.Section}:PacketPath=Tun needs Linux (a TUN device); use PacketPath=Sockets");
        if (!File.Exists("/dev/net/tun"))
            throw new TunException($"{EdgeOptions.Section}:PacketPath=Tun needs /dev/net/tun, which this machine lacks (modprobe tun, or give a container the device); or use PacketPath=Sockets");
        if (!LinuxNative.HasNetAdmin())
            throw new TunException($"{EdgeOptions.Section}:PacketPath=Tun needs CAP_NET_ADMIN to create a TUN device and route the pool to it (run as root, or grant the capability: setcap cap_net_admin+ep, AmbientCapabilities=CAP_NET_ADMIN); or use PacketPath=Sockets");
        if (!NetworkPrefix.TryParse(pool, out var prefix, out var error))
            throw new TunException($"{EdgeOptions.Section}:AddressPool {error}");
        var fds = new List<int>();
        int wakeup = -1;
        try
        {
            string name = namePattern;
            for (int q = 0; q < queues; q++)
            {
                int fd = LinuxNative.Open("/dev/net/tun", LinuxNative.O_RDWR | LinuxNative.O_NONBLOCK | LinuxNative.O_CLOEXEC);
                if (fd < 0) throw new TunException($"cannot open /dev/net/tun: {LinuxNative.Describe(Marshal.GetLastPInvokeError())}");
                fds.Add(fd);
                // struct ifreq: the name (16 bytes), then the flags (a short).
                var ifr = new byte[40];
                Encoding.ASCII.GetBytes(name, 0, Math.Min(name.Length, 15), ifr, 0);
                short flags = (short)(LinuxNative.IFF_TUN | LinuxNative.IFF_NO_PI | (queues > 1 ? LinuxNative.IFF_MULTI_QUEUE : 0));
                ifr[16] = (byte)flags;
                ifr[17] = (byte)(flags >> 8);
                if (LinuxNative.Ioctl(fd, LinuxNative.TUNSETIFF, ref ifr[0]) != 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    throw new TunException(errno is LinuxNative.EPERM or LinuxNative.EACCES
                        ? $"{EdgeOptions.Section}:PacketPath=Tun: creating TUN device '{name}' was refused ({LinuxNative.Describe(errno)}): the edge needs CAP_NET_ADMIN; or use PacketPath=Sockets"
                        : $"cannot create TUN device '{name}': {LinuxNative.Describe(errno)}");
                }
                name = Encoding.ASCII.GetString(ifr, 0, Array.IndexOf(ifr, (byte)0) is var end and >= 0 and < 16 ? end : 16);
            }
            int index = (int)LinuxNative.IfNameToIndex(name);
            if (index == 0) throw new TunException($"TUN device {name} has no interface index");
            bool v4 = prefix.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork;
            // An IPv4 pool: no IPv6 on the device, so the kernel's router solicitations and the like never reach the edge.
            if (v4) TrySysctl($"/proc/sys/net/ipv6/conf/{name}/disable_ipv6");
            // What the edge writes into the device (its handsets' packets, its sessions' IKE) is forwarded by the kernel unless
            // it is for this host: forwarding on for packets that arrive on this device only, the rest of the host unchanged.
            if (!TrySysctl(v4 ? $"/proc/sys/net/ipv4/conf/{name}/forwarding" : $"/proc/sys/net/ipv6/conf/{name}/forwarding"))
                throw new TunException($"cannot turn forwarding on for TUN device {name} (net.ipv{(v4 ? 4 : 6)}.conf.{name}.forwarding)");
            RouteNetlink.SetUp(index, mtu);
            RouteNetlink.AddRoute(index, IpAddressValue.FromIPAddress(prefix.BaseAddress), prefix.PrefixLength);
            wakeup = LinuxNative.EventFd(0, LinuxNative.O_NONBLOCK | LinuxNative.O_CLOEXEC);
            if (wakeup < 0) throw new TunException($"cannot create an eventfd: {LinuxNative.Describe(Marshal.GetLastPInvokeError())}");
            return new TunDevice(name, index, [.. fds.Select(fd => new SafeFileHandle(fd, ownsHandle: true))], wakeup);
        }
        catch
        {
            foreach (var fd in fds) LinuxNative.Close(fd);
            if (wakeup >= 0) LinuxNative.Close(wakeup);
            throw;
        }
    }

    private static bool TrySysctl(string path)
    {
        try
        {
            File.WriteAllText(path, "1");
            return true;
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }

    /// <summary>
    /// Waits until queue <paramref name="queue"/> has a packet or <see cref="Wake"/> was called; false once woken (the
    /// reader stops).
    /// </summary>
    public bool WaitReadable(int queue, LinuxNative.PollFd[] scratch)
    {
        scratch[0] = new LinuxNative.PollFd { Fd = (int)_queues[queue].DangerousGetHandle(), Events = LinuxNative.POLLIN };
        scratch[1] = new LinuxNative.PollFd { Fd = _wakeup, Events = LinuxNative.POLLIN };
        while (true)
        {
            int n = LinuxNative.Poll(scratch, 2, -1);
            if (n < 0 && Marshal.GetLastPInvokeError() == LinuxNative.EINTR) continue;
            if (n < 0 || scratch[1].Revents != 0 || Volatile.Read(ref _disposed) != 0) return false;
            if (scratch[0].Revents != 0) return true;
        }
    }

    /// <summary>One packet from queue <paramref name="queue"/> into <paramref name="buffer"/>: its length, 0 when none is waiting, -1 on an error.</summary>
    public int Read(int queue, Span<byte> buffer)
    {
        nint n = LinuxNative.Read(_queues[queue], ref MemoryMarshal.GetReference(buffer), buffer.Length);
        if (n >= 0) return (int)n;
        int errno = Marshal.GetLastPInvokeError();
        return errno is LinuxNative.EAGAIN or LinuxNative.EINTR ? 0 : -1;
    }

    /// <summary>Writes one whole IP packet into the kernel (as if received on the device). Any thread; one packet per call.</summary>
    public bool Write(ReadOnlySpan<byte> packet)
    {
        if (Volatile.Read(ref _disposed) != 0) return false;
        var fd = _queues[packet.Length % _queues.Length];
        try { return LinuxNative.Write(fd, ref MemoryMarshal.GetReference(packet), packet.Length) == packet.Length; }
        catch (ObjectDisposedException) { return false; }
    }

    /// <summary>Wakes every reader blocked in <see cref="WaitReadable"/> for good.</summary>
    public void Wake()
    {
        Span<byte> one = stackalloc byte[8];
        one[0] = 1;
        LinuxNative.Write(_wakeup, ref one[0], 8);
    }

    /// <summary>Closes the queues (the device and its route go with them). Readers must have stopped (<see cref="Wake"/>).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        Wake();
        foreach (var fd in _queues) fd.Dispose();
        LinuxNative.Close(_wakeup);
    }

    public override string ToString() => $"{Name} ({Queues} queue{(Queues == 1 ? "" : "s")})";
}
