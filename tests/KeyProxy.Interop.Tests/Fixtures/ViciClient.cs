using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace KeyProxy.Interop.Tests.Fixtures;

/// <summary>
/// Minimal client for charon's vici UNIX socket. One request at a time per connection (the
/// protocol is strictly request/response, with events interleaved for streamed commands).
/// </summary>
/// <remarks>
/// Packet: u32 big-endian length, then a type byte: 0 CMD_REQUEST (named), 1 CMD_RESPONSE,
/// 2 CMD_UNKNOWN, 3 EVENT_REGISTER (named), 4 EVENT_UNREGISTER (named), 5 EVENT_CONFIRM,
/// 6 EVENT_UNKNOWN, 7 EVENT (named). Named types carry a u8 name length and the name, then
/// (for requests, responses and events) a message.
/// </remarks>
public sealed class ViciClient : IAsyncDisposable
{
    private const byte CmdRequest = 0, CmdResponse = 1, CmdUnknown = 2, EventRegister = 3,
        EventUnregister = 4, EventConfirm = 5, EventUnknown = 6, Event = 7;

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly SemaphoreSlim _lock = new(1, 1);

    private ViciClient(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
    }

    public static async Task<ViciClient> ConnectAsync(string socketPath, CancellationToken ct = default)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct);
            return new ViciClient(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Sends a command and returns its response message.</summary>
    public Task<ViciSection> CallAsync(string command, ViciSection? request = null, CancellationToken ct = default) =>
        CallStreamedAsync(command, null, request, null, ct);

    /// <summary>
    /// Sends a command while registered for <paramref name="eventName"/>: every event received
    /// before the command's response is passed to <paramref name="onEvent"/> (e.g. list-sas with
    /// "list-sa", initiate with "control-log").
    /// </summary>
    public async Task<ViciSection> CallStreamedAsync(string command, string? eventName, ViciSection? request,
        Action<ViciSection>? onEvent, CancellationToken ct = default)
    {
        await _lock.WaitAsync(ct);
        try
        {
            if (eventName is not null)
            {
                await SendAsync(EventRegister, eventName, null, ct);
                await ExpectConfirmAsync(eventName, ct);
            }
            try
            {
                await SendAsync(CmdRequest, command, request ?? new ViciSection(), ct);
                while (true)
                {
                    var (type, _, message) = await ReceiveAsync(ct);
                    switch (type)
                    {
                        case Event:
                            onEvent?.Invoke(message!);
                            break;
                        case CmdResponse:
                            return message!;
                        case CmdUnknown:
                            throw new InvalidOperationException($"vici: charon does not know command '{command}'");
                        default:
                            throw new InvalidDataException($"vici: unexpected packet type {type} while waiting for '{command}'");
                    }
                }
            }
            finally
            {
                if (eventName is not null)
                {
                    await SendAsync(EventUnregister, eventName, null, ct);
                    // Events already in flight may arrive before the confirmation.
                    await ExpectConfirmAsync(eventName, ct);
                }
            }
        }
        finally
        {
            _lock.Release();
        }
    }

    private async Task ExpectConfirmAsync(string eventName, CancellationToken ct)
    {
        while (true)
        {
            var (type, _, _) = await ReceiveAsync(ct);
            if (type == EventConfirm) return;
            if (type == EventUnknown) throw new InvalidOperationException($"vici: charon does not know event '{eventName}'");
            if (type == Event) continue;
            throw new InvalidDataException($"vici: unexpected packet type {type} while (un)registering '{eventName}'");
        }
    }

    private async Task SendAsync(byte type, string name, ViciSection? message, CancellationToken ct)
    {
        var nameBytes = Encoding.UTF8.GetBytes(name);
        var body = message?.Encode() ?? [];
        int length = 1 + 1 + nameBytes.Length + body.Length;
        var packet = new byte[4 + length];
        BinaryPrimitives.WriteUInt32BigEndian(packet, (uint)length);
        packet[4] = type;
        packet[5] = (byte)nameBytes.Length;
        nameBytes.CopyTo(packet, 6);
        body.CopyTo(packet, 6 + nameBytes.Length);
        await _stream.WriteAsync(packet, ct);
    }

    private async Task<(byte Type, string? Name, ViciSection? Message)> ReceiveAsync(CancellationToken ct)
    {
        var header = new byte[4];
        await _stream.ReadExactlyAsync(header, ct);
        int length = checked((int)BinaryPrimitives.ReadUInt32BigEndian(header));
        if (length < 1 || length > 16 * 1024 * 1024) throw new InvalidDataException($"vici: bad packet length {length}");
        var data = new byte[length];
        await _stream.ReadExactlyAsync(data, ct);
        byte type = data[0];
        int pos = 1;
        string? name = null;
        if (type == Event)
        {
            int nameLength = data[pos++];
            name = Encoding.UTF8.GetString(data, pos, nameLength);
            pos += nameLength;
        }
        ViciSection? message = type is CmdResponse or Event ? ViciSection.Decode(data.AsSpan(pos)) : null;
        return (type, name, message);
    }

    public ValueTask DisposeAsync()
    {
        _stream.Dispose();
        _lock.Dispose();
        return ValueTask.CompletedTask;
    }
}
