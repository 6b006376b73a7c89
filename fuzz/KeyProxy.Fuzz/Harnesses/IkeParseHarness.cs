using System.Net;
using KeyProxy.Fuzz.Support;
using KeyProxy.Ike.Messages;
using KeyProxy.Ike.Protocol;
using KeyProxy.Ipsec.Udp;

namespace KeyProxy.Fuzz.Harnesses;

/// <summary>
/// <c>ike-parse</c>: one datagram as the IKE codec and the engine receive it from the network (RFC 7296 3): the
/// header and cleartext payload chain, the RFC 3948 non-ESP-marker split, the stateless cookie gate, a fresh
/// responder (IKE_SA_INIT request processing) and an initiator waiting for its IKE_SA_INIT response.
/// </summary>
public static class IkeParseHarness
{
    private static readonly CookieGenerator Cookies = new(new SeededRandom(7));

    public static void Run(ReadOnlySpan<byte> input)
    {
        var datagram = input.ToArray();
        IkeCodec.TryReadHeader(datagram, out _, out _);
        if (IkeCodec.TryDecode(datagram, out var message, out _) && CookieChallenge.IsIkeSaInitRequest(datagram, out _))
        {
            if (!CookieChallenge.HasValidCookie(message, IPAddress.Loopback, Cookies))
                CookieChallenge.BuildResponse(message, IPAddress.Loopback, Cookies);
        }

        // Behind port 4500 the same bytes may be a non-ESP-marked IKE message (RFC 3948 2.2).
        if (UdpEncapsulation.Classify(datagram) == NatTPayloadKind.Ike)
            IkeCodec.TryDecode(datagram.AsMemory(UdpEncapsulation.NonEspMarkerLength), out _, out _);

        var responder = IkePair.CreateResponder();
        responder.HandleDatagram(datagram);
        responder.TakeOutputs();

        var initiator = IkePair.CreateInitiator();
        initiator.Start();
        initiator.TakeOutputs();
        initiator.HandleDatagram(datagram);
        initiator.TakeOutputs();
    }
}
