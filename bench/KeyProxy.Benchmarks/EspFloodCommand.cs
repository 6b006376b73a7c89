using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using KeyProxy.Edge.Batching;
using KeyProxy.Wire;
using KeyProxy.Wire.Access;
using KeyProxy.Wire.Ip;

namespace KeyProxy.Benchmarks;

/// <summary>
/// `esp-flood --access 127.0.0.1:PORT --pid PID [--nai-prefix P | --bare-pool 100.64.137.0/24] [--handsets 64]
/// [--peer-network 198.18.137.0] [--peers 8] [--peer-port 24637] [--handset-port 4500] [--payload 100] [--in-flight 256]
/// [--warmup 3] [--window 10]`: ESP datagrams through an edge (or the bare <see cref="RelayCommand"/>) as fast as they
/// go, and the CPU the process PID spends per datagram. Handsets send ESP in UDP (the UDP source port the edge's NAT-T
/// port, a non-zero SPI) through the access link; UDP peers on the AnyIP /24 send each datagram back as it came, to the
/// handset's address, so the edge routes it twice: towards the network (into its TUN device) and back to the handset. No
/// ESP crypto anywhere (the edge never decrypts), so the load costs little beside what it measures. Closed loop: at most
/// --in-flight datagrams out at once. One thread, recvmmsg/sendmmsg on every socket.
/// With --nai-prefix the handsets attach first (subscribers PREFIX-00000i@load.keyproxy.test, provisioned before by
/// keyproxy-load provision); with --bare-pool they take the pool's first addresses without attaching (a bare relay).
/// Prints one line of JSON: datagrams routed per second (those that reached a peer plus those back at a handset), the
/// process's CPU per datagram, its idle CPU before the flood, and the load average.
/// </summary>
internal sealed class EspFloodCommand : IBenchmarkCommand
{
    public string Name => "esp-flood";

    public string Description => "ESP-in-UDP datagrams through an edge or the bare relay, closed loop, datagrams/s and a process's CPU per datagram";

    private sealed record Handset(int Socket, uint Tunnel, IPAddress Address, byte[] Datagram);

    public async Task<int> RunAsync(string[] args)
    {
        var access = IPEndPoint.Parse(CommandLine.Option(args, "--access") ?? "127.0.0.1:17637");
        int pid = CommandLine.Option(args, "--pid", 0);
        int handsets = CommandLine.Option(args, "--handsets", 64);
        int peers = CommandLine.Option(args, "--peers", 8);
        var peerNetwork = IPAddress.Parse(CommandLine.Option(args, "--peer-network") ?? "198.18.137.0").GetAddressBytes();
        int peerPort = CommandLine.Option(args, "--peer-port", 24637);
        int handsetPort = CommandLine.Option(args, "--handset-port", 4500);
        int payload = Math.Max(8, CommandLine.Option(args, "--payload", 100));
        int inFlight = CommandLine.Option(args, "--in-flight", 256);
        double warmup = CommandLine.Option(args, "--warmup", 3.0), window = CommandLine.Option(args, "--window", 10.0);
        string? prefix = CommandLine.Option(args, "--nai-prefix"), barePool = CommandLine.Option(args, "--bare-pool");
        if (pid <= 0 || (prefix is null) == (barePool is null))
        {
            Console.Error.WriteLine("esp-flood: give --pid and one of --nai-prefix (an edge) or --bare-pool (the bare relay)");
            return 2;
        }

        var sockets = new Socket[Math.Clamp(handsets, 1, 16)];
        for (int s = 0; s < sockets.Length; s++)
        {
            sockets[s] = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveBufferSize = 4 << 20, ReceiveTimeout = 10_000 };
            sockets[s].Bind(new IPEndPoint(IPAddress.Loopback, 0));
        }
        var peerSockets = new Socket[peers];
        for (int p = 0; p < peers; p++)
        {
            peerSockets[p] = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveBufferSize = 4 << 20 };
            peerSockets[p].Bind(new IPEndPoint(new IPAddress([peerNetwork[0], peerNetwork[1], peerNetwork[2], (byte)(p + 1)]), peerPort));
        }
        var fleet = new Handset[handsets];
        for (int i = 0; i < handsets; i++)
        {
            int s = i % sockets.Length;
            var (tunnel, address) = prefix is not null ? Attach(sockets[s], access, prefix, i) : (uint.MaxValue - (uint)i, PoolAddress(barePool!, i));
            var peer = new IPAddress([peerNetwork[0], peerNetwork[1], peerNetwork[2], (byte)(i % peers + 1)]);
            fleet[i] = new Handset(s, tunnel, address, Esp(tunnel, address, (ushort)handsetPort, peer, (ushort)peerPort, payload, i));
        }

        double idleCpu = Cpu(pid);
        await Task.Delay(2000);
        double idlePerSecond = (Cpu(pid) - idleCpu) / 2;
        var result = Flood(access, sockets, peerSockets, fleet, inFlight, warmup, window, pid);
        var load = File.ReadAllText("/proc/loadavg").Split(' ');
        double perSecond = result.Routed / window;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"datagramsPerSecond\": {perSecond:F0}, \"cpuUsPerDatagram\": {1e6 * result.Cpu / result.Routed:F3}, \"cpuSeconds\": {result.Cpu:F2}, " +
            $"\"idleCpuPerSecond\": {idlePerSecond:F3}, \"floodCpuUsPerDatagram\": {1e6 * result.FloodCpu / result.Routed:F3}, \"lost\": {result.Lost}, " +
            $"\"handsets\": {handsets}, \"payload\": {payload}, \"loadAverage\": \"{load[0]} {load[1]} {load[2]}\"}}"));
        foreach (var s in sockets) s.Dispose();
        foreach (var p in peerSockets) p.Dispose();
        return result.Routed > 0 ? 0 : 1;
    }

    private readonly record struct FloodResult(long Routed, double Cpu, double FloodCpu, long Lost);

    /// <summary>The closed loop: send while under --in-flight, echo at the peers, count what comes back; a window after the warm-up.</summary>
    private static FloodResult Flood(IPEndPoint access, Socket[] sockets, Socket[] peerSockets, Handset[] fleet, int inFlight, double warmup, double window, int pid)
    {
        var to = access.Serialize();
        var toAddress = to.Buffer.Span[..to.Size].ToArray();
        var send = sockets.Select(_ => new DatagramBatch(32, 2048)).ToArray();
        var receive = new DatagramBatch(64, 2048);
        var bySocket = sockets.Select((_, s) => fleet.Where(h => h.Socket == s).ToArray()).ToArray();
        var next = new int[sockets.Length];
        var poll = new Edge.Tun.LinuxNative.PollFd[sockets.Length + peerSockets.Length];
        for (int s = 0; s < sockets.Length; s++) poll[s] = new() { Fd = (int)sockets[s].Handle, Events = Edge.Tun.LinuxNative.POLLIN };
        for (int p = 0; p < peerSockets.Length; p++) poll[sockets.Length + p] = new() { Fd = (int)peerSockets[p].Handle, Events = Edge.Tun.LinuxNative.POLLIN };
        long outstanding = 0, echoed = 0, back = 0, lost = 0;
        long lastProgress = Stopwatch.GetTimestamp();
        var clock = Stopwatch.StartNew();
        bool measuring = false;
        long routedAtStart = 0;
        double cpuAtStart = 0, floodCpuAtStart = 0;
        var self = Process.GetCurrentProcess();
        int round = 0;
        while (true)
        {
            double t = clock.Elapsed.TotalSeconds;
            if (!measuring && t >= warmup)
            {
                measuring = true;
                routedAtStart = echoed + back;
                cpuAtStart = Cpu(pid);
                self.Refresh();
                floodCpuAtStart = self.TotalProcessorTime.TotalSeconds;
            }
            else if (measuring && t >= warmup + window) break;
            // Send: round robin over the sockets, each its handsets' datagrams in turn, as long as the window allows.
            for (int k = 0; k < sockets.Length && outstanding < inFlight; k++)
            {
                int s = (round + k) % sockets.Length;
                var mine = bySocket[s];
                if (mine.Length == 0) continue;
                var batch = send[s];
                while (batch.NextSlot >= 0 && outstanding + batch.Queued < inFlight)
                {
                    var h = mine[next[s]++ % mine.Length];
                    h.Datagram.CopyTo(batch.Slot(batch.NextSlot));
                    batch.Queue(0, h.Datagram.Length, toAddress);
                }
                outstanding += batch.Send(sockets[s].SafeHandle);
            }
            round++;
            for (int i = 0; i < poll.Length; i++) poll[i].Revents = 0;
            int ready = Edge.Tun.LinuxNative.Poll(poll, (nuint)poll.Length, 1);
            if (ready > 0)
            {
                // Peers: each datagram back to where it came from, as it came, in place.
                for (int p = 0; p < peerSockets.Length; p++)
                {
                    if (poll[sockets.Length + p].Revents == 0) continue;
                    int n = receive.Receive(peerSockets[p].SafeHandle);
                    for (int i = 0; i < n; i++) receive.Queue(0, receive.Received(i).Length, receive.Source(i));
                    echoed += n;
                    if (n > 0) receive.Send(peerSockets[p].SafeHandle);
                }
                for (int s = 0; s < sockets.Length; s++)
                {
                    if (poll[s].Revents == 0) continue;
                    int n = receive.Receive(sockets[s].SafeHandle);
                    if (n <= 0) continue;
                    back += n;
                    outstanding -= n;
                    lastProgress = Stopwatch.GetTimestamp();
                }
            }
            // A datagram lost on the way (a full queue) would hold its place in the window for good: after 50 ms without
            // anything back, what is out counts as lost.
            if (outstanding > 0 && Stopwatch.GetElapsedTime(lastProgress) > TimeSpan.FromMilliseconds(50))
            {
                lost += outstanding;
                outstanding = 0;
                lastProgress = Stopwatch.GetTimestamp();
            }
            if (outstanding < 0) outstanding = 0;
        }
        self.Refresh();
        return new FloodResult(echoed + back - routedAtStart, Cpu(pid) - cpuAtStart, self.TotalProcessorTime.TotalSeconds - floodCpuAtStart, lost);
    }

    /// <summary>Attach by hand (docs/wire.md): request, challenge, proof, accept; the tunnel and the handset's address.</summary>
    private static (uint Tunnel, IPAddress Address) Attach(Socket socket, IPEndPoint edge, string prefix, int index)
    {
        var identity = new SubscriberIdentity(IdentityType.Nai, $"{prefix}-{index:D6}@load.keyproxy.test");
        var secret = Encoding.UTF8.GetBytes($"keyproxy-load-secret-{prefix}-{index:D6}");
        var handsetNonce = new Nonce16((UInt128)Random.Shared.NextInt64() << 64 | (UInt128)(ulong)Random.Shared.NextInt64());
        socket.SendTo(new AttachRequest(identity, handsetNonce).ToArray(), edge);
        var challenge = (AttachChallenge)Expect(socket, "AttachChallenge");
        var proof = AttachProofs.ComputeAttachProof(SubscriberKeys.DeriveAttachKey(secret), identity, handsetNonce, challenge.EdgeNonce);
        socket.SendTo(new AttachResponse(identity, handsetNonce, challenge.EdgeNonce, proof).ToArray(), edge);
        var accepted = Expect(socket, "AttachAccept");
        if (accepted is not AttachAccept accept) throw new InvalidOperationException($"handset {index} not attached: {accepted}");
        return (accept.TunnelId, accept.HandsetAddress);
    }

    private static AccessMessage Expect(Socket socket, string what)
    {
        var buffer = new byte[2048];
        int n = socket.Receive(buffer);
        if (AccessMessage.TryParse(buffer.AsSpan(0, n), out var message) != WireError.None)
            throw new InvalidOperationException($"expected {what}, got {n} bytes that do not parse");
        return message!;
    }

    private static IPAddress PoolAddress(string pool, int index)
    {
        var b = IPAddress.Parse(pool.Split('/')[0]).GetAddressBytes();
        uint a = ((uint)b[0] << 24 | (uint)b[1] << 16 | (uint)b[2] << 8 | b[3]) + 1 + (uint)index;
        return new IPAddress([(byte)(a >> 24), (byte)(a >> 16), (byte)(a >> 8), (byte)a]);
    }

    /// <summary>The handset's datagram: access header, then IPv4/UDP from its NAT-T port to the peer, ESP inside (RFC 3948: SPI first, never zero).</summary>
    private static byte[] Esp(uint tunnel, IPAddress handset, ushort handsetPort, IPAddress peer, ushort peerPort, int payload, int index)
    {
        var esp = new byte[payload];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(esp, 0x1000u + (uint)index); // SPI
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(esp.AsSpan(4), 1); // sequence number
        var datagram = new byte[AccessData.HeaderSize + 20 + 8 + payload];
        if (UdpPacketWriter.TryWrite(datagram.AsSpan(AccessData.HeaderSize), IpAddressValue.FromIPAddress(handset), handsetPort,
                IpAddressValue.FromIPAddress(peer), peerPort, esp, out int written) != PacketError.None || written != datagram.Length - AccessData.HeaderSize)
            throw new InvalidOperationException("cannot write the ESP datagram");
        AccessData.WriteHeader(datagram, tunnel);
        return datagram;
    }

    /// <summary>Process <paramref name="pid"/>'s CPU so far (user and system), from /proc/PID/stat.</summary>
    private static double Cpu(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // Fields 14 and 15 of stat(5) (utime, stime), counted from the state (field 3) here.
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }
}
