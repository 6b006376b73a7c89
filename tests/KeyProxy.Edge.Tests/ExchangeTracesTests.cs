using System.Diagnostics;
using KeyProxy.Edge.Tracing;
using KeyProxy.Ike.Messages;

namespace KeyProxy.Edge.Tests;

/// <summary>Which trace the peer's datagrams of a proxy session join at the edge (issue 20 item 3).</summary>
public sealed class ExchangeTracesTests
{
    private static readonly ActivityContext Began = new(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);

    [Fact]
    public void Every_exchange_of_a_session_still_setting_up_joins_the_trace_that_began_it()
    {
        var traces = new ExchangeTraces(TimeSpan.FromMinutes(1));
        var session = Guid.NewGuid();
        traces.Remember(session, Began);

        Assert.Equal(Began, traces.Of(session, ExchangeType.IkeSaInit));
        Assert.Equal(Began, traces.Of(session, ExchangeType.IkeIntermediate));
        Assert.Equal(Began, traces.Of(session, ExchangeType.IkeAuth));
        Assert.Equal(Began, traces.OfProxyRequest(session));
        Assert.Equal(default, traces.Of(Guid.NewGuid(), ExchangeType.IkeAuth));
    }

    [Fact]
    public void Once_established_a_retransmitted_set_up_exchange_joins_its_trace_and_later_exchanges_begin_their_own()
    {
        var traces = new ExchangeTraces(TimeSpan.FromMinutes(1));
        var session = Guid.NewGuid();
        traces.Remember(session, Began);
        traces.Established(session);

        // RFC 7296 2.1: the peer sends its IKE_AUTH request again when our response was slow or lost.
        Assert.Equal(Began, traces.Of(session, ExchangeType.IkeAuth));
        Assert.Equal(Began, traces.OfProxyRequest(session));
        Assert.Equal(default, traces.Of(session, ExchangeType.CreateChildSa));
        Assert.Equal(default, traces.Of(session, ExchangeType.Informational));
        Assert.Equal(default, traces.Of(session, ExchangeType.IkeFollowupKe));
        Assert.Equal(1, traces.Count);
    }

    [Fact]
    public void A_forgotten_or_expired_session_begins_a_new_trace()
    {
        var forgotten = Guid.NewGuid();
        var traces = new ExchangeTraces(TimeSpan.FromMinutes(1));
        traces.Remember(forgotten, Began);
        traces.Forget(forgotten);
        Assert.Equal(default, traces.Of(forgotten, ExchangeType.IkeAuth));

        var expired = Guid.NewGuid();
        var shortLived = new ExchangeTraces(TimeSpan.Zero);
        shortLived.Remember(expired, Began);
        Thread.Sleep(1);
        Assert.Equal(default, shortLived.Of(expired, ExchangeType.IkeAuth));
        Assert.Equal(0, shortLived.Count);
    }
}
