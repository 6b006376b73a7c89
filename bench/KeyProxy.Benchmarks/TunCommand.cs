using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using KeyProxy.Edge.Tun;
using KeyProxy.Wire.Ip;

namespace KeyProxy.Benchmarks;

/// <summary>
/// `tun [--seconds S] [--payload BYTES]` (root: CAP_NET_ADMIN, /dev/net/tun): the TUN packet path's system calls, in
/// one run. A TUN device as the edge makes it (pool 100.64.252.0/24 routed to it) and a UDP socket on 198.18.252.1 (made
/// local by an AnyIP route for the run). Reading: the socket sends datagrams to a pool address and the reader takes them
/// from the device, either polling before every read, or polling once and reading until the queue is empty (the edge's
/// reader, at most 64 a poll). Writing: whole IP/UDP packets written into the device, delivered to the socket. Packets/s
/// and the process's CPU per packet (user and system, both ends included).
/// </summary>
internal sealed class TunCommand : IBenchmarkCommand
{
    private const string Pool = "100.64.252.0/24", PeerNetwork = "198.18.252.0/24";
    private static readonly IPAddress Handset = IPAddress.Parse("100.64.252.5"), Peer = IPAddress.Parse("198.18.252.1");

    public string Name => "tun";

    public string Description => "TUN device reads (poll per read against poll then drain) and writes, packets/s and CPU per packet";

    public async Task<int> RunAsync(string[] args)
    {
        var seconds = CommandLine.Option(args, "--seconds", 3.0);
        int payload = CommandLine.Option(args, "--payload", 100);
        bool routeAdded = Ip("route", "add", "local", PeerNetwork, "dev", "lo") == 0;
        try
        {
            using var tun = TunDevice.Create("kpbench%d", 1, 65535, Pool);
            using var peer = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            peer.ReceiveBufferSize = 4 << 20;
            peer.Bind(new IPEndPoint(Peer, 4500));
            Console.WriteLine($"TUN benchmark: {tun}, {payload} B UDP payload, {seconds.ToString(CultureInfo.InvariantCulture)} s each, {Environment.ProcessorCount} cores");
            Console.WriteLine("| what | packets/s | CPU µs per packet |");
            Console.WriteLine("|---|---:|---:|");
            foreach (var (name, drain) in new[] { ("read, poll before every read", false), ("read, poll then drain (the edge's reader)", true) })
            {
                var (pps, us) = MeasureReads(tun, peer, payload, seconds, drain);
                Console.WriteLine($"| {name} | {pps:N0} | {us:F2} |");
            }
            var (wpps, wus) = MeasureWrites(tun, peer, payload, seconds);
            Console.WriteLine($"| write into the device, delivered to a socket | {wpps:N0} | {wus:F2} |");
            Console.WriteLine("A TUN descriptor yields one packet per read and takes one per write (readv only scatters that one packet): batching needs the device's offloads (IFF_VNET_HDR, TUNSETOFFLOAD) or io_uring.");
        }
        catch (TunException e)
        {
            Console.Error.WriteLine("tun: " + e.Message);
            return 1;
        }
        finally
        {
            if (routeAdded) Ip("route", "del", "local", PeerNetwork, "dev", "lo");
        }
        await Task.CompletedTask;
        return 0;
    }

    /// <summary>A sender thread floods the pool address from the peer socket; this thread reads the device.</summary>
    private static (double Pps, double UsPerPacket) MeasureReads(TunDevice tun, Socket peer, int payload, double seconds, bool drain)
    {
        using var stop = new CancellationTokenSource();
        var data = new byte[payload];
        var to = new IPEndPoint(Handset, 4500);
        var sender = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                try { peer.SendTo(data, to); }
                catch (SocketException) { Thread.Yield(); }
            }
        }) { IsBackground = true };
        var buffer = new byte[65536];
        var poll = new LinuxNative.PollFd[2];
        sender.Start();
        // Warm-up, then the measured window.
        ReadFor(tun, buffer, poll, drain, TimeSpan.FromSeconds(0.5));
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        long packets = ReadFor(tun, buffer, poll, drain, TimeSpan.FromSeconds(seconds));
        var used = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        stop.Cancel();
        sender.Join();
        while (tun.Read(0, buffer) > 0) { }
        return (packets / seconds, used.TotalMicroseconds / packets);
    }

    private static long ReadFor(TunDevice tun, byte[] buffer, LinuxNative.PollFd[] poll, bool drain, TimeSpan duration)
    {
        long packets = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            if (!tun.WaitReadable(0, poll)) break;
            for (int i = 0; i < (drain ? 64 : 1); i++)
            {
                int n = tun.Read(0, buffer);
                if (n <= 0) break;
                if (buffer[0] >> 4 == 4) packets++;
            }
        }
        return packets;
    }

    /// <summary>This thread writes IP/UDP packets into the device; a receiver thread drains the peer socket.</summary>
    private static (double Pps, double UsPerPacket) MeasureWrites(TunDevice tun, Socket peer, int payload, double seconds)
    {
        var packet = new byte[28 + payload];
        UdpPacketWriter.TryWrite(packet, IpAddressValue.FromIPAddress(Handset), 4500, IpAddressValue.FromIPAddress(Peer), 4500, new byte[payload], out int length);
        long received = 0;
        peer.ReceiveTimeout = 200;
        using var stop = new CancellationTokenSource();
        var receiver = new Thread(() =>
        {
            var buffer = new byte[65536];
            while (!stop.IsCancellationRequested)
            {
                try { peer.Receive(buffer); Interlocked.Increment(ref received); }
                catch (SocketException) { }
            }
        }) { IsBackground = true };
        receiver.Start();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(0.5)) tun.Write(packet.AsSpan(0, length));
        long start = Interlocked.Read(ref received);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        clock.Restart();
        while (clock.Elapsed < TimeSpan.FromSeconds(seconds)) tun.Write(packet.AsSpan(0, length));
        long delivered = Interlocked.Read(ref received) - start;
        var used = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        stop.Cancel();
        receiver.Join();
        return (delivered / seconds, used.TotalMicroseconds / delivered);
    }

    private static int Ip(params string[] args)
    {
        var psi = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.StandardOutput.ReadToEnd();
        p.StandardError.ReadToEnd();
        p.WaitForExit();
        return p.ExitCode;
    }
}
