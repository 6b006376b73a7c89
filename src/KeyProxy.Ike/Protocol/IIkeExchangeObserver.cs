using KeyProxy.Ike.Messages;

namespace KeyProxy.Ike.Protocol;

/// <summary>
/// Told when an IKE request/response exchange (RFC 7296 1.2-1.5, 2.1) of a session begins and ends, so that a host can
/// trace it (issue 20 item 3: one span per exchange). An interface and not spans made here: the engine stays sans-IO and
/// free of any tracing library or host; it knows where an exchange begins and what its result was, which a host reading
/// datagrams could only guess again. Called synchronously from the session's own methods, one caller at a time; the
/// engine never passes keys or payloads, only the exchange type, its message id and a bounded result.
/// </summary>
public interface IIkeExchangeObserver
{
    /// <summary>
    /// An exchange began: <paramref name="weRequested"/> when this session sent its request, otherwise when the peer's
    /// request arrived (after its integrity check).
    /// </summary>
    void ExchangeStarted(ExchangeType exchange, uint messageId, bool weRequested);

    /// <summary>
    /// The exchange ended with <paramref name="result"/>: <c>ok</c>, <c>error</c> (an error notify, RFC 7296 3.10.1),
    /// <c>timeout</c> (no response after the retransmissions, 2.1) or <c>cookie</c> (a COOKIE demand, 2.6): the values of
    /// the <c>keyproxy.ike.exchanges</c> metric's result label.
    /// </summary>
    void ExchangeEnded(ExchangeType exchange, uint messageId, bool weRequested, string result);
}
