using System.Net;
using KeyProxy.Abstractions;
using KeyProxy.Edge.Batching;
using KeyProxy.Edge.Classification;
using KeyProxy.Edge.Tun;
using KeyProxy.Ike.Messages;
using KeyProxy.Wire.Access;
using KeyProxy.Wire.Ip;
using Microsoft.Extensions.Logging;

namespace KeyProxy.Edge;

/// <summary>
/// The TUN packet path (<see cref="EdgePacketPath.Tun"/>, issue 18): the edge owns its pool as a prefix routed to a TUN
/// device and reads and writes whole IP packets for every pool address through one descriptor per queue. Packets for an
/// attached handset are classified as on its sockets (IKE on the IKE and NAT-T ports, ESP in UDP) plus plain ESP; the rest
/// is counted and dropped. Routed packets go to the handset as they came, behind the access header (no copy); the
/// handset's packets leave as they came from it; the proxy sessions' IKE leaves as an IP/UDP packet from the handset's address.
/// </summary>
public sealed partial class EdgeGateway
{
    /// <summary>Packets one reader takes from its queue after one poll before it polls again.</summary>
    private const int ReadBurst = 64;

    private TunDevice? _tun;
    private readonly List<Thread> _tunReaders = [];

    /// <summary>The TUN device's name, or null on the socket path (for tests and the admin API).</summary>
    public string? TunDeviceName => _tun?.Name;

    private void StartTun()
    {
        _tun = TunDevice.Create(_options.TunName, _options.TunQueues, _options.TunMtu, _options.AddressPool);
        for (int q = 0; q < _tun.Queues; q++)
        {
            int queue = q;
            var reader = new Thread(() => TunReader(queue)) { IsBackground = true, Name = $"edge-tun-{queue}" };
            _tunReaders.Add(reader);
            reader.Start();
        }
    }

    private void StopTunReaders()
    {
        if (_tun is null) return;
        _tun.Wake();
        foreach (var reader in _tunReaders)
            if (reader != Thread.CurrentThread) reader.Join(TimeSpan.FromSeconds(5));
    }

    /// <summary>
    /// One queue's reader: poll, then read packets until the queue is empty (or a burst is done), each handled in place.
    /// Each packet is read into the next slot of a send batch, so those routed to their handsets leave together in one
    /// sendmmsg(2) on the access socket at the end of the burst (or when the batch is full), without a copy.
    /// </summary>
    private void TunReader(int queue)
    {
        var tun = _tun!;
        // The access header goes in front of a routed packet, in place.
        const int headroom = AccessData.HeaderSize;
        var batch = new DatagramBatch(OperatingSystem.IsLinux() ? Math.Clamp(_options.IoBatch, 1, ReadBurst) : 1, headroom + 65536);
        bool batched = batch.Slots > 1;
        var poll = new LinuxNative.PollFd[2];
        try
        {
            while (!_stop.IsCancellationRequested && tun.WaitReadable(queue, poll))
            {
                for (int i = 0; i < ReadBurst; i++)
                {
                    int offset = batch.SlotOffset(batch.Queued);
                    int n = tun.Read(queue, batch.Buffer.AsSpan(offset + headroom, 65536));
                    if (n <= 0) break;
                    try
                    {
                        if (HandlePoolPacket(batch.Buffer, offset + headroom, n) is not { } link) continue;
                        AccessData.WriteHeader(batch.Buffer.AsSpan(offset), link.TunnelId);
                        if (!batched)
                        {
                            SendToHandset(link, batch.Buffer.AsSpan(offset, headroom + n));
                            Metrics.Packet(EdgePacketClass.RoutedToHandset);
                            continue;
                        }
                        var to = link.AccessEndpoint;
                        batch.Queue(0, headroom + n, to.Buffer.Span[..to.Size]);
                        if (batch.NextSlot < 0) FlushToHandsets(batch);
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        Metrics.Drop(EdgeDropReason.Malformed);
                        LogTunPacketError(e.Message);
                    }
                }
                if (batch.Queued > 0) FlushToHandsets(batch);
            }
        }
        catch (ObjectDisposedException) { /* stopping */ }
    }

    /// <summary>S24 towards the handsets: the routed packets of one burst, in one sendmmsg(2) (or as few as the kernel takes).</summary>
    private void FlushToHandsets(DatagramBatch batch)
    {
        int queued = batch.Queued;
        int sent;
        try { sent = batch.Send(_access!.SafeHandle); }
        catch (ObjectDisposedException)
        {
            Metrics.Drop(EdgeDropReason.SendFailed, queued);
            throw;
        }
        Metrics.Packet(EdgePacketClass.RoutedToHandset, sent);
        Metrics.Drop(EdgeDropReason.SendFailed, queued - sent);
    }

    /// <summary>
    /// A whole IP packet the kernel routed to a pool address: classified, then handed to a proxy session, or counted and
    /// dropped; or, when it is for the handset as it came (ESP, the IKE of a handset without the proxy service), its
    /// handset's link is returned for the caller to send it there behind the access header.
    /// </summary>
    private HandsetLink? HandlePoolPacket(byte[] buffer, int start, int length)
    {
        var packet = buffer.AsSpan(start, length);
        var kind = EdgeClassifier.ClassifyPoolPacket(packet, (ushort)_network.HandsetIkePort, (ushort)_network.HandsetNatTPort, out var info);
        switch (kind)
        {
            case NetworkPacketKind.Malformed:
                Metrics.Drop(EdgeDropReason.Malformed);
                return null;
            case NetworkPacketKind.OtherTraffic:
                Metrics.Drop(EdgeDropReason.OtherTraffic);
                return null;
            case NetworkPacketKind.Fragment:
                Metrics.Drop(EdgeDropReason.Fragment);
                return null;
        }
        if (!_byPoolAddress.TryGetValue(info.Handset, out var link))
        {
            Metrics.Drop(EdgeDropReason.NotAttached);
            return null;
        }
        if (kind is NetworkPacketKind.Esp or NetworkPacketKind.PlainEsp) return link;
        if (DroppedFromNetwork(kind)) return null;
        // IKE: S22 for handsets with the proxy service; for the others it is just traffic (S24).
        if (!link.Profile.ProxyService) return link;
        var peer = new IPEndPoint(info.Peer.ToIPAddress(), info.PeerPort);
        HandleProxiedIke(link, kind, info.NatTraversal, peer, packet[(info.PayloadOffset + info.IkeOffset)..], info.InitiatorSpi);
        return null;
    }

    /// <summary>
    /// S24 towards the network: the handset's packet into the TUN device as it came (its source is the handset's address,
    /// checked by classification). What the socket path could send is routed (UDP from the handset's IKE or NAT-T port,
    /// ESP in UDP among it), and plain ESP; anything else is counted as unroutable.
    /// </summary>
    private void RoutePacketToNetwork(HandsetLink link, ReadOnlySpan<byte> packet, in AccessPacketInfo info)
    {
        bool routable = info.IsUdp
            ? info.SourcePort == _network.HandsetNatTPort || info.SourcePort == _network.HandsetIkePort
            : IpPacket.TryRead(packet, out var ip) == PacketError.None && ip.Protocol == EdgeClassifier.EspProtocol;
        if (!routable)
        {
            Metrics.Drop(EdgeDropReason.Unroutable);
            return;
        }
        if (_tun!.Write(packet)) Metrics.Packet(EdgePacketClass.RoutedToNetwork);
        else Metrics.Drop(EdgeDropReason.SendFailed);
    }

    /// <summary>A proxy session's IKE message as an IP/UDP packet from the handset's address and port, into the TUN device.</summary>
    private bool SendIkePacket(HandsetLink link, IkeDatagram datagram)
    {
        if (!IPAddress.TryParse(datagram.PeerAddress, out var peerAddress))
        {
            Metrics.Drop(EdgeDropReason.SendFailed);
            return false;
        }
        var peer = IpAddressValue.FromIPAddress(peerAddress);
        bool marker = NeedsNonEspMarker(datagram);
        int payloadLength = (marker ? NonEspMarker.Length : 0) + datagram.Message.Length;
        var packet = new byte[UdpPacketWriter.HeaderSize(link.AddressValue.Family) + payloadLength];
        int header = UdpPacketWriter.HeaderSize(link.AddressValue.Family);
        // The payload is written in place: the marker (four zero bytes, RFC 3948 2.2) and the message.
        datagram.Message.CopyTo(packet, header + (marker ? NonEspMarker.Length : 0));
        ushort localPort = (ushort)(datagram.NatTraversal ? _network.HandsetNatTPort : _network.HandsetIkePort);
        if (peer.Family != link.AddressValue.Family
            || UdpPacketWriter.TryWrite(packet, link.AddressValue, localPort, peer, (ushort)datagram.PeerPort,
                packet.AsSpan(header, payloadLength), out int written) != PacketError.None
            || !_tun!.Write(packet.AsSpan(0, written)))
        {
            Metrics.Drop(EdgeDropReason.SendFailed);
            return false;
        }
        Metrics.Packet(EdgePacketClass.IkeToNetwork);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Packet from the TUN device failed: {Error}")]
    private partial void LogTunPacketError(string error);
}
