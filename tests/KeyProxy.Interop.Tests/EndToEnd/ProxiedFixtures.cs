using System.Net;
using System.Net.Sockets;
using System.Text;
using KeyProxy.Abstractions;
using KeyProxy.Handset;
using KeyProxy.Handset.Cli;
using KeyProxy.Ipsec.Policy;
using KeyProxy.Wire.Access;
using KeyProxy.Wire.Ip;

namespace KeyProxy.Interop.Tests.EndToEnd;

/// <summary>Subscribers, handsets and packets for the end-to-end tests.</summary>
internal static class Proxied
{
    public const string Psk = "keyproxy-e2e-psk";

    public static byte[] Secret(string nai) => Encoding.UTF8.GetBytes("provisioned secret of " + nai);

    /// <summary>A subscriber with the proxy service for one peer prefix (PSK), both roles unless given.</summary>
    public static SubscriberProfile Subscriber(string nai, string peerPrefix, bool proxyService = true, ProxyRoles roles = ProxyRoles.Initiator | ProxyRoles.Responder) => new()
    {
        Nai = nai,
        Secret = Secret(nai),
        ProxyService = proxyService,
        Conditions = [new ProxyCondition(peerPrefix, 0, 0, ushort.MaxValue, roles)],
        IkeIdentity = "fqdn:" + nai.Replace('@', '.'),
        PreSharedKeys = [new PeerPsk(peerPrefix, null, Encoding.UTF8.GetBytes(Psk))],
    };

    /// <summary>A handset that protects traffic to <paramref name="protect"/> and sends everything else in the clear.</summary>
    public static UdpHandsetHost Handset(string nai, IPEndPoint edge, string protect, Func<HandsetConfig, HandsetConfig>? configure = null)
    {
        var config = new HandsetConfig
        {
            Identity = new SubscriberIdentity(IdentityType.Nai, nai),
            Secret = Secret(nai),
            Policies =
            [
                new SecurityPolicy(PolicyAction.Protect, Selectors.Any(AddressFamily.InterNetwork), Selectors.Prefix(protect), "protect " + protect),
                new SecurityPolicy(PolicyAction.Bypass, Selectors.Any(AddressFamily.InterNetwork), Selectors.Any(AddressFamily.InterNetwork), "clear"),
            ],
        };
        return new(configure is null ? config : configure(config), edge);
    }

    public static byte[] Udp(IPAddress source, ushort sourcePort, IPAddress destination, ushort destinationPort, string text)
    {
        var payload = Encoding.ASCII.GetBytes(text);
        var packet = new byte[UdpPacketWriter.HeaderSize(IpFamily.V6) + payload.Length];
        if (UdpPacketWriter.TryWrite(packet, IpAddressValue.FromIPAddress(source), sourcePort, IpAddressValue.FromIPAddress(destination),
                destinationPort, payload, out int n) != PacketError.None)
            throw new InvalidOperationException("cannot build the packet");
        return packet[..n];
    }

    /// <summary>The UDP payload of an IP packet, as text.</summary>
    public static string Text(byte[] packet)
    {
        if (IpPacket.TryRead(packet, out var ip) != PacketError.None || UdpDatagram.TryRead(ip, out var udp) != PacketError.None)
            return "(not UDP)";
        return Encoding.ASCII.GetString(udp.Payload);
    }

    /// <summary>Echoes every datagram on <paramref name="socket"/> until the token ends.</summary>
    public static void Echo(Socket socket, CancellationToken ct) => _ = Task.Run(async () =>
    {
        var buffer = new byte[2048];
        while (!ct.IsCancellationRequested)
        {
            SocketReceiveFromResult r;
            try { r = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), ct); }
            catch (Exception) { return; }
            try { await socket.SendToAsync(buffer.AsMemory(0, r.ReceivedBytes), SocketFlags.None, r.RemoteEndPoint, ct); }
            catch (Exception) { return; }
        }
    }, ct);

    public static async Task<byte[]> NextDeliveredAsync(UdpHandsetHost handset, TimeSpan timeout, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try { return await handset.Delivered.ReadAsync(cts.Token); }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException($"nothing delivered to the handset within {timeout}; counters: {handset.Counters}");
        }
    }
}
