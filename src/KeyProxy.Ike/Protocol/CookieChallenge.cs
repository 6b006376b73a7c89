using System.Diagnostics.CodeAnalysis;
using System.Net;
using KeyProxy.Ike.Messages;

namespace KeyProxy.Ike.Protocol;

/// <summary>
/// The host's side of RFC 7296 2.6, before any session exists: check an IKE_SA_INIT request's COOKIE,
/// or answer it statelessly with one. No DH and no state is spent on a request that fails here.
/// </summary>
public static class CookieChallenge
{
    /// <summary>True when the request carries a COOKIE notify (as its first payload) that this generator made for this initiator.</summary>
    public static bool HasValidCookie(IkeMessage request, IPAddress initiator, CookieGenerator cookies)
    {
        if (request.Payloads.Count == 0 || request.Payloads[0] is not NotifyPayload { NotifyType: NotifyType.Cookie } cookie) return false;
        var valid = request.Find<NoncePayload>() is { } nonce && cookies.Verify(cookie.Data.Span, nonce.Nonce.Span, initiator, request.InitiatorSpi);
        IkeMetrics.Cookie(valid ? "valid" : "invalid");
        return valid;
    }

    /// <summary>The stateless response carrying a fresh cookie; null when the request has no nonce to bind it to.</summary>
    public static byte[]? BuildResponse(IkeMessage request, IPAddress initiator, CookieGenerator cookies)
    {
        if (request.Find<NoncePayload>() is not { } nonce) return null;
        IkeMetrics.Cookie("sent");
        return StatelessResponse(request, new NotifyPayload(NotifyType.Cookie, cookies.Create(nonce.Nonce.Span, initiator, request.InitiatorSpi)));
    }

    /// <summary>An IKE_SA_INIT response with SPIr zero and one notify (COOKIE, or an error): RFC 7296 1.2, 2.6.</summary>
    internal static byte[] StatelessResponse(IkeMessage request, NotifyPayload notify) => IkeCodec.Encode(new IkeMessage
    {
        InitiatorSpi = request.InitiatorSpi,
        ResponderSpi = 0,
        Exchange = ExchangeType.IkeSaInit,
        Flags = IkeFlags.Response,
        MessageId = 0,
        Payloads = [notify],
    });

    /// <summary>Reads just enough of a datagram to tell whether it is a new IKE_SA_INIT request (RFC 7296 2.6 gate).</summary>
    public static bool IsIkeSaInitRequest(ReadOnlySpan<byte> datagram, [NotNullWhen(true)] out IkeHeader? header)
    {
        header = null;
        if (!IkeCodec.TryReadHeader(datagram, out var h, out _)) return false;
        if (h.Exchange != ExchangeType.IkeSaInit || h.IsResponse || h.ResponderSpi != 0 || h.MessageId != 0) return false;
        header = h;
        return true;
    }
}
