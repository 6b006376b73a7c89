using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using KeyProxy.Wire.Ip;

namespace KeyProxy.Edge.Routing;

/// <summary>A peer's IKE endpoint as an object and as the text an <c>IkeDatagram</c> names it by.</summary>
internal sealed record PeerEndpoint(IPEndPoint Endpoint, string Text);

/// <summary>
/// The peers' IKE endpoints made once per address and port instead of once per datagram: an edge speaks for many handsets
/// with few peers (the networks' security gateways). The objects are shared and only read. Bounded: past
/// <see cref="MaxEntries"/> a table starts over. Thread-safe.
/// </summary>
internal sealed class PeerEndpoints
{
    public const int MaxEntries = 4096;

    private readonly ConcurrentDictionary<(IpAddressValue Address, ushort Port), PeerEndpoint> _received = new();
    private readonly ConcurrentDictionary<(string Address, int Port), IPEndPoint> _sent = new();
    private readonly ConcurrentDictionary<IpAddressValue, string> _texts = new();

    /// <summary>A peer address as text (a proxy request's peer, named to the session that will speak to it).</summary>
    public string Text(IpAddressValue address)
    {
        if (_texts.TryGetValue(address, out var known)) return known;
        var text = address.ToString();
        if (_texts.Count >= MaxEntries) _texts.Clear();
        _texts[address] = text;
        return text;
    }

    /// <summary>Where a datagram came from. IPv6 with a scope id is made afresh each time (the key has no scope).</summary>
    public PeerEndpoint From(SocketAddress address)
    {
        if (!TryKey(address, out var key))
        {
            var endpoint = (IPEndPoint)new IPEndPoint(IPAddress.Any, 0).Create(address);
            return new PeerEndpoint(endpoint, endpoint.Address.ToString());
        }
        if (_received.TryGetValue(key, out var known)) return known;
        var made = new IPEndPoint(key.Address.ToIPAddress(), key.Port);
        var peer = new PeerEndpoint(made, made.Address.ToString());
        if (_received.Count >= MaxEntries) _received.Clear();
        _received[key] = peer;
        return peer;
    }

    /// <summary>The endpoint to send a session's datagram to; throws <see cref="FormatException"/> for text that is no address, as <see cref="IPAddress.Parse(string)"/>.</summary>
    public IPEndPoint To(string address, int port)
    {
        if (_sent.TryGetValue((address, port), out var known)) return known;
        var made = new IPEndPoint(IPAddress.Parse(address), port);
        if (_sent.Count >= MaxEntries) _sent.Clear();
        _sent[(address, port)] = made;
        return made;
    }

    private static bool TryKey(SocketAddress address, out (IpAddressValue Address, ushort Port) key)
    {
        var bytes = address.Buffer.Span;
        var port = (ushort)(bytes[2] << 8 | bytes[3]);
        switch (address.Family)
        {
            case AddressFamily.InterNetwork when address.Size >= 8:
                key = (IpAddressValue.FromBytes(bytes.Slice(4, 4)), port);
                return true;
            case AddressFamily.InterNetworkV6 when address.Size >= 28 && bytes.Slice(24, 4).IndexOfAnyExcept((byte)0) < 0:
                key = (IpAddressValue.FromBytes(bytes.Slice(8, 16)), port);
                return true;
            default:
                key = default;
                return false;
        }
    }
}
