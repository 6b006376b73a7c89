using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace KeyProxy.Interop.Tests.Fixtures;

/// <summary>
/// A network namespace of its own joined to this host by a veth pair on a /30: the host end
/// gets <see cref="HostAddress"/>, the namespace end <see cref="NamespaceAddress"/>. A charon
/// started inside it (<see cref="StrongSwanPeerOptions.Namespace"/>) has an ipsec0 and routing
/// table of its own, so ESP data really travels through its userspace ESP and TUN device, which
/// it never does on loopback. <see cref="BindUdp"/> opens sockets inside the namespace from this
/// process (e.g. a UDP echo that answers through charon's tunnel).
/// </summary>
/// <remarks>
/// Names are <c>kpx-&lt;owner pid&gt;-&lt;n&gt;</c>; namespaces of test processes that no longer
/// exist are deleted by the next <see cref="Create"/>. Deleting a namespace removes its veth pair.
/// </remarks>
public sealed class NetworkNamespace : IDisposable
{
    private const int CLONE_NEWNET = 0x40000000;
    private const string Prefix = "kpx-";
    private static int _counter;
    private int _disposed;

    private NetworkNamespace(string name, string hostInterface, string namespaceInterface, IPAddress host, IPAddress ns)
    {
        Name = name;
        HostInterface = hostInterface;
        NamespaceInterface = namespaceInterface;
        HostAddress = host;
        NamespaceAddress = ns;
    }

    /// <summary>The namespace's name for <c>ip netns exec</c>.</summary>
    public string Name { get; }

    public string HostInterface { get; }

    /// <summary>The veth end inside the namespace (for charon's <c>interfaces_use</c>).</summary>
    public string NamespaceInterface { get; }

    /// <summary>This host's end of the veth pair: bind our sockets here to reach the namespace.</summary>
    public IPAddress HostAddress { get; }

    /// <summary>The namespace's end of the veth pair.</summary>
    public IPAddress NamespaceAddress { get; }

    public static NetworkNamespace Create()
    {
        ReapStale();
        for (int attempt = 0; attempt < 32; attempt++)
        {
            int n = Interlocked.Increment(ref _counter);
            // A /30 in 10.213.0.0/16 picked from pid and counter; a clash with another process's pair fails the
            // address assignment below and moves on.
            int slot = (Environment.ProcessId * 31 + n * 7 + attempt) % 16384;
            var hostAddress = new IPAddress([10, 213, (byte)(slot >> 6), (byte)((slot & 63) << 2 | 1)]);
            var nsAddress = new IPAddress([10, 213, (byte)(slot >> 6), (byte)((slot & 63) << 2 | 2)]);
            if (AddressInUse(hostAddress)) continue;
            var name = $"{Prefix}{Environment.ProcessId}-{n}";
            // Interface names are limited to 15 characters.
            var tag = $"{Environment.ProcessId % 100000}{n % 100:00}";
            string hostIf = "kh" + tag, nsIf = "kn" + tag;
            try
            {
                Ip("netns", "add", name);
                Ip("link", "add", hostIf, "type", "veth", "peer", "name", nsIf, "netns", name);
                Ip("addr", "add", $"{hostAddress}/30", "dev", hostIf);
                Ip("link", "set", hostIf, "up");
                Ip("-n", name, "addr", "add", $"{nsAddress}/30", "dev", nsIf);
                Ip("-n", name, "link", "set", nsIf, "up");
                Ip("-n", name, "link", "set", "lo", "up");
                var created = new NetworkNamespace(name, hostIf, nsIf, hostAddress, nsAddress);
                created.WaitUntilReachable();
                return created;
            }
            catch (InvalidOperationException) when (attempt < 31)
            {
                TryIp("netns", "del", name);
                TryIp("link", "del", hostIf);
            }
        }
        throw new InvalidOperationException("could not create a network namespace with a veth pair");
    }

    /// <summary>
    /// A UDP socket bound inside the namespace: the calling thread would be moved, so a dedicated
    /// thread enters the namespace, opens and binds the socket, and ends. The socket stays in the
    /// namespace it was created in and is usable from any thread.
    /// </summary>
    public Socket BindUdp(IPEndPoint endpoint) => OpenInside(() =>
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try { socket.Bind(endpoint); }
        catch { socket.Dispose(); throw; }
        return socket;
    }, $"bind {endpoint}");

    /// <summary>
    /// A raw IPv4 socket for IP protocol 50 inside the namespace: it gets a copy of every plain ESP packet (RFC 4303) that
    /// arrives there, IP header included, whoever else takes it (charon's own raw socket). ESP in UDP never shows up here.
    /// </summary>
    public Socket OpenRawEsp() => OpenInside(() =>
    {
        // .NET's Socket constructor refuses IP protocol 50 ("Protocol not supported"); libc's socket() does not.
        int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ESP);
        if (fd < 0) throw new InvalidOperationException($"socket(AF_INET, SOCK_RAW, 50) failed: errno {Marshal.GetLastPInvokeError()}");
        return new Socket(new SafeSocketHandle(fd, ownsHandle: true));
    }, "open a raw ESP socket");

    /// <summary>
    /// Runs <paramref name="open"/> on a dedicated thread that entered the namespace (the calling thread would be moved);
    /// the socket it returns stays in the namespace it was created in and is usable from any thread.
    /// </summary>
    private Socket OpenInside(Func<Socket> open, string what)
    {
        Socket? socket = null;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var target = File.OpenHandle($"/var/run/netns/{Name}");
                if (setns(target.DangerousGetHandle().ToInt32(), CLONE_NEWNET) != 0)
                    throw new InvalidOperationException($"setns({Name}) failed: errno {Marshal.GetLastPInvokeError()}");
                socket = open();
            }
            catch (Exception e)
            {
                error = e;
            }
        })
        { IsBackground = true, Name = "netns " + Name };
        thread.Start();
        thread.Join();
        return socket ?? throw new InvalidOperationException($"cannot {what} in {Name}", error);
    }

    /// <summary>
    /// A /24 of handset addresses that this host treats as its own (an AnyIP "local" route, so an
    /// edge can bind any of them) and that the namespace reaches through the veth pair: what a
    /// charon in the namespace sees as the handsets' addresses. Removed with the namespace.
    /// </summary>
    public string AddHandsetPool()
    {
        var b = HostAddress.GetAddressBytes();
        var pool = $"10.214.{b[2] * 4 % 250 + (b[3] >> 2) % 4}.0/24";
        for (int attempt = 0; attempt < 250; attempt++)
        {
            if (!TryIp("-4", "route", "show", "table", "local", pool).Contains(pool.Split('/')[0], StringComparison.Ordinal)
                && RunIp(["route", "add", "local", pool, "dev", "lo"]).Code == 0)
            {
                _hostRoutes.Add(pool);
                // Remembered under the namespace's name, so a run that dies leaves the route to the next run's reaper.
                Directory.CreateDirectory(PoolDirectory);
                File.AppendAllText(Path.Combine(PoolDirectory, Name), pool + "\n");
                Run("route", "add", pool, "via", HostAddress.ToString());
                return pool;
            }
            var third = (int.Parse(pool.Split('.')[2]) + 1) % 250;
            pool = $"10.214.{third}.0/24";
        }
        throw new InvalidOperationException("no free 10.214.x.0/24 for a handset pool");
    }

    private readonly List<string> _hostRoutes = [];

    /// <summary>
    /// A /24 of handset addresses for an edge on the TUN packet path (<c>KeyProxy:Edge:PacketPath=Tun</c>): the edge routes
    /// it to the TUN device it creates, the namespace reaches it through the veth pair, and this host forwards between the
    /// two (forwarding on for the host's veth end here; the edge turns it on for its device). No NAT anywhere on the way.
    /// Nothing is left on this host: the namespace's route goes with the namespace, the forwarding switch with the veth
    /// pair, the edge's route with its device.
    /// </summary>
    public string AddTunPool()
    {
        var b = HostAddress.GetAddressBytes();
        int third = (b[2] * 4 + (b[3] >> 2)) % 250;
        for (int attempt = 0; attempt < 250; attempt++, third = (third + 1) % 250)
        {
            var pool = $"100.65.{third}.0/24";
            if (TryIp("-4", "route", "show", "match", $"100.65.{third}.1").Contains("100.65.", StringComparison.Ordinal)) continue;
            File.WriteAllText($"/proc/sys/net/ipv4/conf/{HostInterface}/forwarding", "1");
            Run("route", "add", pool, "via", HostAddress.ToString());
            return pool;
        }
        throw new InvalidOperationException("no free 100.65.x.0/24 for a TUN edge's handset pool");
    }

    private static readonly string PoolDirectory = Path.Combine(Path.GetTempPath(), "keyproxy-netns-pools");

    /// <summary>Removes the AnyIP routes of the handset pools a namespace's owner added.</summary>
    private static void DeleteHostRoutes(string name)
    {
        var file = Path.Combine(PoolDirectory, name);
        if (!File.Exists(file)) return;
        foreach (var pool in File.ReadAllLines(file))
            if (pool.Length > 0) TryIp("route", "del", "local", pool, "dev", "lo");
        File.Delete(file);
    }

    /// <summary><c>ip -n &lt;name&gt; args</c>: for routes, rules and links inside the namespace.</summary>
    public string Run(params string[] args) => Ip(["-n", Name, .. args]);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        DeleteHostRoutes(Name);
        TryIp("netns", "del", Name);
    }

    public override string ToString() => $"netns {Name} ({HostAddress} <-> {NamespaceAddress})";

    private void WaitUntilReachable()
    {
        // The veth pair needs a moment after "up" before it carries traffic (carrier, DAD for IPv6).
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(5))
        {
            var state = Ip("-n", Name, "-br", "link", "show", NamespaceInterface);
            if (state.Contains(" UP ", StringComparison.Ordinal) || state.Contains("LOWER_UP", StringComparison.Ordinal)) return;
            Thread.Sleep(20);
        }
        throw new InvalidOperationException($"{this}: veth did not come up");
    }

    private static bool AddressInUse(IPAddress address) =>
        Ip("-4", "-o", "addr", "show").Contains($" {address}/", StringComparison.Ordinal);

    private static void ReapStale()
    {
        if (Directory.Exists(PoolDirectory))
        {
            foreach (var file in Directory.GetFiles(PoolDirectory))
            {
                var name = Path.GetFileName(file);
                var dash = name.IndexOf('-', Prefix.Length);
                if (name.StartsWith(Prefix, StringComparison.Ordinal) && dash > 0
                    && int.TryParse(name.AsSpan(Prefix.Length, dash - Prefix.Length), out int owner)
                    && owner != Environment.ProcessId && !Directory.Exists($"/proc/{owner}"))
                {
                    DeleteHostRoutes(name);
                }
            }
        }
        foreach (var line in TryIp("netns", "list").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var name = line.Split(' ')[0];
            if (!name.StartsWith(Prefix, StringComparison.Ordinal)) continue;
            var rest = name[Prefix.Length..];
            var dash = rest.IndexOf('-');
            if (dash > 0 && int.TryParse(rest.AsSpan(0, dash), out int owner)
                && owner != Environment.ProcessId && !Directory.Exists($"/proc/{owner}"))
            {
                DeleteHostRoutes(name);
                TryIp("netns", "del", name);
            }
        }
    }

    private static string Ip(params string[] args)
    {
        var (code, output) = RunIp(args);
        if (code != 0) throw new InvalidOperationException($"ip {string.Join(' ', args)} exited with {code}: {output}");
        return output;
    }

    private static string TryIp(params string[] args) => RunIp(args).Output;

    private static (int Code, string Output) RunIp(string[] args)
    {
        var psi = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot run ip (iproute2)");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result + stderr);
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int setns(int fd, int nstype);

    private const int AF_INET = 2, SOCK_RAW = 3, IPPROTO_ESP = 50;

    [DllImport("libc", SetLastError = true)]
    private static extern int socket(int domain, int type, int protocol);
}
