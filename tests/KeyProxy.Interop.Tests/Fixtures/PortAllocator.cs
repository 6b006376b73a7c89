using System.Net;
using System.Net.Sockets;

namespace KeyProxy.Interop.Tests.Fixtures;

/// <summary>
/// Hands out UDP ports that no other test (in this process or another process on this machine
/// using this allocator) holds, and that nothing is bound to right now.
/// </summary>
/// <remarks>
/// A port is held by an exclusive lock on <c>/tmp/keyproxy-test-ports/&lt;port&gt;.lock</c>
/// (.NET implements <see cref="FileShare.None"/> with flock, which the kernel releases when the
/// process dies, so a crashed run never leaks a port). It is also checked by binding it on the
/// IPv4 and IPv6 wildcard addresses without SO_REUSEADDR: charon binds the wildcard with
/// SO_REUSEADDR, which would otherwise let two charons share a port silently.
/// Ports come from 20000-32767, below Linux's ephemeral range (32768-60999).
/// </remarks>
public static class PortAllocator
{
    public const int RangeStart = 20000;
    public const int RangeEnd = 32767;

    private static readonly string LockDirectory = Path.Combine(Path.GetTempPath(), "keyproxy-test-ports");
    private static readonly object Gate = new();
    private static int _next = RangeStart + (Environment.ProcessId * 37) % (RangeEnd - RangeStart);

    /// <summary>One free UDP port, held until the lease is disposed.</summary>
    public static PortLease Allocate() => AllocateBlock(1);

    /// <summary>
    /// <paramref name="count"/> consecutive free UDP ports (e.g. 2 for charon's IKE and NAT-T
    /// ports), held until the lease is disposed.
    /// </summary>
    public static PortLease AllocateBlock(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        Directory.CreateDirectory(LockDirectory);
        lock (Gate)
        {
            int span = RangeEnd - RangeStart - count;
            for (int attempt = 0; attempt < span; attempt++)
            {
                int first = RangeStart + (_next - RangeStart) % span;
                _next = first + count;
                var locks = new List<FileStream>();
                bool ok = true;
                for (int p = first; p < first + count && ok; p++)
                {
                    var l = TryLock(p);
                    if (l is null || !IsUdpPortFree(p)) { l?.Dispose(); ok = false; }
                    else locks.Add(l);
                }
                if (ok) return new PortLease(first, count, locks);
                foreach (var l in locks) l.Dispose();
            }
        }
        throw new InvalidOperationException($"no {count} consecutive free UDP ports in {RangeStart}-{RangeEnd}");
    }

    private static FileStream? TryLock(int port)
    {
        try
        {
            return new FileStream(Path.Combine(LockDirectory, $"{port}.lock"), FileMode.OpenOrCreate,
                FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>True when the UDP port can be bound on both wildcard addresses right now.</summary>
    public static bool IsUdpPortFree(int port)
    {
        try
        {
            using var v4 = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            v4.Bind(new IPEndPoint(IPAddress.Any, port));
            using var v6 = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp);
            v6.DualMode = false;
            v6.Bind(new IPEndPoint(IPAddress.IPv6Any, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

/// <summary>Ports held for one test object; dispose to give them back.</summary>
public sealed class PortLease : IDisposable
{
    private readonly List<FileStream> _locks;

    internal PortLease(int first, int count, List<FileStream> locks)
    {
        Port = first;
        Count = count;
        _locks = locks;
    }

    /// <summary>The first port of the block.</summary>
    public int Port { get; }

    public int Count { get; }

    public int this[int index] => index >= 0 && index < Count ? Port + index : throw new ArgumentOutOfRangeException(nameof(index));

    public void Dispose()
    {
        foreach (var l in _locks) l.Dispose();
        _locks.Clear();
    }
}
