using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using KeyProxy.Edge.Tun;

namespace KeyProxy.Edge.Batching;

/// <summary>
/// Several datagrams per system call on one UDP socket (Linux recvmmsg(2) and sendmmsg(2)): a fixed set of slots, each
/// a buffer and room for a socket address, in memory pinned once (no allocation per call or per datagram). Receiving
/// fills slots 0..n-1 with what the kernel had queued; sending takes the slots queued with <see cref="Queue"/> in order.
/// One thread uses a batch at a time.
/// </summary>
internal sealed class DatagramBatch
{
    /// <summary>Room for a sockaddr_in6 (28 bytes), the largest address a UDP socket gives.</summary>
    public const int AddressRoom = 28;

    private readonly byte[] _data;
    private readonly byte[] _addresses;
    private readonly LinuxNative.IoVec[] _iov;
    private readonly LinuxNative.MMsgHdr[] _messages;
    private readonly nint _dataBase, _addressBase, _iovBase, _messageBase;
    private int _queued;

    public DatagramBatch(int slots, int slotSize)
    {
        if (slots < 1) throw new ArgumentOutOfRangeException(nameof(slots));
        if (slotSize < 1) throw new ArgumentOutOfRangeException(nameof(slotSize));
        Slots = slots;
        SlotSize = slotSize;
        _data = GC.AllocateUninitializedArray<byte>(slots * slotSize, pinned: true);
        _addresses = GC.AllocateArray<byte>(slots * AddressRoom, pinned: true);
        _iov = GC.AllocateArray<LinuxNative.IoVec>(slots, pinned: true);
        _messages = GC.AllocateArray<LinuxNative.MMsgHdr>(slots, pinned: true);
        _dataBase = Marshal.UnsafeAddrOfPinnedArrayElement(_data, 0);
        _addressBase = Marshal.UnsafeAddrOfPinnedArrayElement(_addresses, 0);
        _iovBase = Marshal.UnsafeAddrOfPinnedArrayElement(_iov, 0);
        _messageBase = Marshal.UnsafeAddrOfPinnedArrayElement(_messages, 0);
        for (int i = 0; i < slots; i++)
        {
            _messages[i].Iov = _iovBase + i * Unsafe.SizeOf<LinuxNative.IoVec>();
            _messages[i].IovLength = 1;
            _messages[i].Name = _addressBase + i * AddressRoom;
        }
    }

    public int Slots { get; }

    public int SlotSize { get; }

    /// <summary>The buffer all slots live in; slot <c>i</c> starts at <see cref="SlotOffset"/>(i).</summary>
    public byte[] Buffer => _data;

    public int SlotOffset(int slot) => slot * SlotSize;

    /// <summary>Slot <paramref name="slot"/>'s whole buffer.</summary>
    public Span<byte> Slot(int slot) => _data.AsSpan(slot * SlotSize, SlotSize);

    /// <summary>The datagram received into slot <paramref name="slot"/>.</summary>
    public Span<byte> Received(int slot) => _data.AsSpan(slot * SlotSize, (int)Math.Min(_messages[slot].Length, (uint)SlotSize));

    /// <summary>Where the datagram in slot <paramref name="slot"/> came from (a sockaddr as the kernel wrote it).</summary>
    public ReadOnlySpan<byte> Source(int slot) => _addresses.AsSpan(slot * AddressRoom, (int)Math.Min(_messages[slot].NameLength, AddressRoom));

    /// <summary>Whether the datagram in slot <paramref name="slot"/> was longer than the slot (MSG_TRUNC): cut, to be dropped.</summary>
    public bool Truncated(int slot) => _messages[slot].Length > (uint)SlotSize;

    /// <summary>
    /// Receives what the socket has queued, up to <see cref="Slots"/> datagrams, without waiting: how many (0 when none
    /// was waiting), or -1 on another error.
    /// </summary>
    public int Receive(SafeHandle socket)
    {
        for (int i = 0; i < Slots; i++)
        {
            _iov[i].Base = _dataBase + i * SlotSize;
            _iov[i].Length = (nuint)SlotSize;
            _messages[i].NameLength = AddressRoom;
            _messages[i].Flags = 0;
            _messages[i].Length = 0;
        }
        while (true)
        {
            int n = LinuxNative.RecvMMsg(socket, _messageBase, (uint)Slots, LinuxNative.MSG_DONTWAIT | MsgTrunc, 0);
            if (n >= 0) return n;
            int errno = Marshal.GetLastPInvokeError();
            if (errno == LinuxNative.EINTR) continue;
            return errno == LinuxNative.EAGAIN ? 0 : -1;
        }
    }

    // MSG_TRUNC on receive: the length the datagram had, so a cut one is seen as such.
    private const int MsgTrunc = 0x20;

    /// <summary>Datagrams queued for <see cref="Send"/>.</summary>
    public int Queued => _queued;

    /// <summary>The slot the next <see cref="Queue"/> takes (fill it first), or -1 when the batch is full.</summary>
    public int NextSlot => _queued < Slots ? _queued : -1;

    /// <summary>
    /// Queues the datagram at <paramref name="offset"/>, <paramref name="length"/> bytes, of the next slot (see
    /// <see cref="NextSlot"/>) for <paramref name="destination"/> (a sockaddr, e.g. <see cref="SocketAddress.Buffer"/>).
    /// </summary>
    public void Queue(int offset, int length, ReadOnlySpan<byte> destination)
    {
        int i = _queued;
        if (i >= Slots) throw new InvalidOperationException("the batch is full");
        if ((uint)offset > (uint)SlotSize || (uint)length > (uint)(SlotSize - offset)) throw new ArgumentOutOfRangeException(nameof(length));
        if (destination.Length > AddressRoom) throw new ArgumentException("not a socket address", nameof(destination));
        _iov[i].Base = _dataBase + i * SlotSize + offset;
        _iov[i].Length = (nuint)length;
        destination.CopyTo(_addresses.AsSpan(i * AddressRoom));
        _messages[i].NameLength = (uint)destination.Length;
        _messages[i].Flags = 0;
        _queued = i + 1;
    }

    /// <summary>
    /// Sends the queued datagrams, as many per system call as the kernel takes, and empties the queue: how many were sent.
    /// A datagram the kernel refuses (its queue full, an unreachable destination) is skipped and not counted.
    /// </summary>
    public int Send(SafeHandle socket)
    {
        int sent = 0, at = 0;
        while (at < _queued)
        {
            int n = LinuxNative.SendMMsg(socket, _messageBase + at * Unsafe.SizeOf<LinuxNative.MMsgHdr>(), (uint)(_queued - at), LinuxNative.MSG_DONTWAIT);
            if (n > 0)
            {
                sent += n;
                at += n;
                continue;
            }
            int errno = n < 0 ? Marshal.GetLastPInvokeError() : 0;
            if (errno == LinuxNative.EINTR) continue;
            if (errno == LinuxNative.EAGAIN) break; // the socket's send queue is full: the rest are lost like any datagram
            at++; // the first datagram failed (e.g. its destination unreachable): skip it, send the rest
        }
        _queued = 0;
        return sent;
    }
}
