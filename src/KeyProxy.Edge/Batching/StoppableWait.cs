using System.Runtime.InteropServices;
using KeyProxy.Edge.Tun;

namespace KeyProxy.Edge.Batching;

/// <summary>
/// A reader thread's wait on one descriptor (poll(2) for input) that <see cref="Wake"/> ends for good through an eventfd:
/// closing a socket does not wake a thread blocked on it, so a stopping edge wakes its readers this way.
/// </summary>
internal sealed class StoppableWait : IDisposable
{
    private readonly int _eventFd;
    private readonly LinuxNative.PollFd[] _poll = new LinuxNative.PollFd[2];
    private int _woken;

    public StoppableWait()
    {
        _eventFd = LinuxNative.EventFd(0, LinuxNative.O_NONBLOCK | LinuxNative.O_CLOEXEC);
        if (_eventFd < 0) throw new IOException($"cannot create an eventfd: {LinuxNative.Describe(Marshal.GetLastPInvokeError())}");
    }

    /// <summary>Waits until <paramref name="descriptor"/> has input; false once woken or on an error (the reader stops). One thread.</summary>
    public bool WaitReadable(SafeHandle descriptor)
    {
        if (Volatile.Read(ref _woken) != 0) return false;
        bool added = false;
        try
        {
            descriptor.DangerousAddRef(ref added);
            _poll[0] = new LinuxNative.PollFd { Fd = (int)descriptor.DangerousGetHandle(), Events = LinuxNative.POLLIN };
            _poll[1] = new LinuxNative.PollFd { Fd = _eventFd, Events = LinuxNative.POLLIN };
            while (true)
            {
                int n = LinuxNative.Poll(_poll, 2, -1);
                if (n < 0 && Marshal.GetLastPInvokeError() == LinuxNative.EINTR) continue;
                if (n < 0 || _poll[1].Revents != 0 || Volatile.Read(ref _woken) != 0) return false;
                if (_poll[0].Revents != 0) return true;
            }
        }
        catch (ObjectDisposedException) { return false; }
        finally
        {
            if (added) descriptor.DangerousRelease();
        }
    }

    /// <summary>Ends every wait, now and later.</summary>
    public void Wake()
    {
        if (Interlocked.Exchange(ref _woken, 1) != 0) return;
        Span<byte> one = stackalloc byte[8];
        one[0] = 1;
        LinuxNative.Write(_eventFd, ref one[0], 8);
    }

    /// <summary>Closes the eventfd; the waiting thread must have stopped.</summary>
    public void Dispose()
    {
        Wake();
        LinuxNative.Close(_eventFd);
    }
}
