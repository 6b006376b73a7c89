using System.Globalization;
using System.Net;
using System.Net.Sockets;
using KeyProxy.Edge.Batching;
using KeyProxy.Edge.Tun;
using KeyProxy.Wire.Access;

namespace KeyProxy.Benchmarks;

/// <summary>
/// `relay --access 127.0.0.1:PORT --pool 100.64.137.0/24 [--batch 32] [--queues 1] [--seconds 60]` (root): the bare
/// relay that says how fast the edge's packet I/O could go on this machine. The same I/O as the edge's TUN packet path,
/// the same classes (<see cref="DatagramBatch"/> recvmmsg/sendmmsg on one access socket, <see cref="TunDevice"/> with the
/// pool routed to it, poll-then-drain reads in bursts of 64), and nothing else: a datagram from the access socket loses
/// its 8-byte access header and goes into the device as it is; a packet from the device gets an access header and goes to
/// the first access sender seen. No classification, no table of handsets, no metrics. Runs for --seconds, then stops.
/// </summary>
internal sealed class RelayCommand : IBenchmarkCommand
{
    private const int ReadBurst = 64, Headroom = AccessData.HeaderSize;

    public string Name => "relay";

    public string Description => "bare relay access socket <-> TUN with the edge's I/O and no classification or routing (for esp-flood)";

    private byte[]? _replyTo;
    private volatile bool _stopping;

    public async Task<int> RunAsync(string[] args)
    {
        var access = IPEndPoint.Parse(CommandLine.Option(args, "--access") ?? "127.0.0.1:17637");
        var pool = CommandLine.Option(args, "--pool") ?? "100.64.137.0/24";
        int batch = CommandLine.Option(args, "--batch", 32);
        int queues = CommandLine.Option(args, "--queues", 1);
        double seconds = CommandLine.Option(args, "--seconds", 60.0);
        TunDevice tun;
        try { tun = TunDevice.Create("kprelay%d", queues, 65535, pool); }
        catch (TunException e)
        {
            Console.Error.WriteLine("relay: " + e.Message);
            return 1;
        }
        using var socket = new Socket(access.AddressFamily, SocketType.Dgram, ProtocolType.Udp) { ReceiveBufferSize = 4 << 20 };
        socket.Bind(access);
        using var wait = new StoppableWait();
        var threads = new List<Thread> { new(() => FromAccess(socket, tun, wait, batch)) { IsBackground = true, Name = "relay-access" } };
        for (int q = 0; q < tun.Queues; q++)
        {
            int queue = q;
            threads.Add(new Thread(() => FromTun(socket, tun, queue, batch)) { IsBackground = true, Name = $"relay-tun-{queue}" });
        }
        foreach (var t in threads) t.Start();
        Console.WriteLine($"relay ready: {socket.LocalEndPoint} <-> {tun}, pool {pool}, {batch} datagrams per call, for {seconds.ToString(CultureInfo.InvariantCulture)} s");
        await Task.Delay(TimeSpan.FromSeconds(seconds));
        _stopping = true;
        wait.Wake();
        tun.Wake();
        foreach (var t in threads) t.Join(TimeSpan.FromSeconds(5));
        tun.Dispose();
        return 0;
    }

    /// <summary>Access socket to device: recvmmsg, then one write per packet (a TUN descriptor takes one packet per write).</summary>
    private void FromAccess(Socket socket, TunDevice tun, StoppableWait wait, int slots)
    {
        var batch = new DatagramBatch(slots, 65536);
        while (!_stopping && wait.WaitReadable(socket.SafeHandle))
        {
            int n;
            do
            {
                n = batch.Receive(socket.SafeHandle);
                for (int i = 0; i < n; i++)
                {
                    var datagram = batch.Received(i);
                    if (datagram.Length <= Headroom) continue;
                    _replyTo ??= batch.Source(i).ToArray();
                    tun.Write(datagram[Headroom..]);
                }
            }
            while (n == batch.Slots && !_stopping);
            if (n < 0) return;
        }
    }

    /// <summary>Device to access socket: poll, read a burst into the slots of a send batch behind an access header, one sendmmsg.</summary>
    private void FromTun(Socket socket, TunDevice tun, int queue, int slots)
    {
        var batch = new DatagramBatch(Math.Clamp(slots, 1, ReadBurst), Headroom + 65536);
        var poll = new LinuxNative.PollFd[2];
        while (!_stopping && tun.WaitReadable(queue, poll))
        {
            for (int i = 0; i < ReadBurst; i++)
            {
                int offset = batch.SlotOffset(batch.Queued);
                int n = tun.Read(queue, batch.Buffer.AsSpan(offset + Headroom, 65536));
                if (n <= 0) break;
                if (_replyTo is not { } to) continue;
                AccessData.WriteHeader(batch.Buffer.AsSpan(offset), 1);
                batch.Queue(0, Headroom + n, to);
                if (batch.NextSlot < 0) batch.Send(socket.SafeHandle);
            }
            if (batch.Queued > 0) batch.Send(socket.SafeHandle);
        }
    }
}
