using System.Net;
using KeyProxy.Edge.Classification;
using KeyProxy.Wire;
using KeyProxy.Wire.Access;
using KeyProxy.Wire.Ip;
using KeyProxy.Wire.Proxy;

namespace KeyProxy.Fuzz.Harnesses;

/// <summary>
/// <c>access</c>: a datagram on the edge's access socket, read the way the edge reads it (EdgeGateway.Access):
/// the data framing (tunnel id + inner packet) or else a control message; then, for data, the S21-S24
/// classification of the inner packet against the tunnel's handset address (IPv4 for an even tunnel id, IPv6 for
/// an odd one) and the parse of a proxy request it finds. The same bytes also go through the network-side
/// classifier as a UDP payload on the IKE and on the NAT-T port.
/// </summary>
public static class AccessHarness
{
    public static readonly IPAddress HandsetV4 = IPAddress.Parse("10.45.0.2");
    public static readonly IPAddress HandsetV6 = IPAddress.Parse("2001:db8:45::2");
    private static readonly IpAddressValue V4 = IpAddressValue.FromIPAddress(HandsetV4);
    private static readonly IpAddressValue V6 = IpAddressValue.FromIPAddress(HandsetV6);

    public static void Run(ReadOnlySpan<byte> datagram)
    {
        var error = AccessData.TryRead(datagram, out var tunnelId, out var packet);
        if (error == WireError.UnknownType)
        {
            AccessMessage.TryParse(datagram, out _);
        }
        else if (error == WireError.None)
        {
            var handset = (tunnelId & 1) == 0 ? V4 : V6;
            var kind = EdgeClassifier.ClassifyAccess(packet, handset, out var info);
            if (kind is AccessPacketKind.ProxyRequest or AccessPacketKind.Route or AccessPacketKind.KeyTransfer && info.IsUdp)
            {
                var payload = packet[info.PayloadOffset..];
                if (kind == AccessPacketKind.ProxyRequest)
                    ProxyRequest.TryParse(payload, out _);
            }
        }

        foreach (var natTraversalPort in (ReadOnlySpan<bool>)[false, true])
        {
            var network = EdgeClassifier.ClassifyNetwork(datagram, natTraversalPort, out var ikeOffset, out _, out _);
            if (network is NetworkPacketKind.Ike or NetworkPacketKind.IkeSaInitRequest)
                Ike.Messages.IkeCodec.TryReadHeader(datagram[ikeOffset..], out _, out _);
        }
    }
}
