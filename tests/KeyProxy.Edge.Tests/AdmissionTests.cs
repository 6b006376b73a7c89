using System.Net;
using KeyProxy.Edge.Admission;
using CsCheck;
using KeyProxy.Wire.Ip;

namespace KeyProxy.Edge.Tests;

/// <summary>The half-open table (RFC 7296 2.6 cookie threshold, edge and per-peer caps) and the per-handset token bucket.</summary>
public sealed class AdmissionTests
{
    private static IpAddressValue A(string s) => IpAddressValue.FromIPAddress(IPAddress.Parse(s));

    private static readonly DateTimeOffset T0 = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Below_the_threshold_sessions_start_and_above_it_only_with_a_valid_cookie()
    {
        var table = new HalfOpenTable(cookieThreshold: 2, maxHalfOpen: 4, maxHalfOpenPerPeer: 10, TimeSpan.FromSeconds(30));
        Assert.False(table.CookiesRequired(T0));
        Assert.Equal(HalfOpenDecision.Start, table.TryStart(Guid.NewGuid(), A("192.0.2.1"), false, T0));
        Assert.Equal(HalfOpenDecision.Start, table.TryStart(Guid.NewGuid(), A("192.0.2.2"), false, T0));
        Assert.True(table.CookiesRequired(T0));
        Assert.Equal(HalfOpenDecision.DemandCookie, table.TryStart(Guid.NewGuid(), A("192.0.2.3"), false, T0));
        Assert.Equal(2, table.Count); // a demanded cookie costs no entry
        Assert.Equal(HalfOpenDecision.Start, table.TryStart(Guid.NewGuid(), A("192.0.2.3"), true, T0));
        Assert.Equal(HalfOpenDecision.Start, table.TryStart(Guid.NewGuid(), A("192.0.2.4"), true, T0));
        // The hard cap holds even for initiators that return cookies.
        Assert.Equal(HalfOpenDecision.OverEdgeLimit, table.TryStart(Guid.NewGuid(), A("192.0.2.5"), true, T0));
        Assert.Equal(4, table.Count);
    }

    [Fact]
    public void One_peer_address_gets_at_most_its_share()
    {
        var table = new HalfOpenTable(cookieThreshold: 100, maxHalfOpen: 100, maxHalfOpenPerPeer: 3, TimeSpan.FromSeconds(30));
        var sessions = new List<Guid>();
        for (int i = 0; i < 3; i++)
        {
            var s = Guid.NewGuid();
            sessions.Add(s);
            Assert.Equal(HalfOpenDecision.Start, table.TryStart(s, A("198.51.100.7"), false, T0));
        }
        Assert.Equal(HalfOpenDecision.OverPeerLimit, table.TryStart(Guid.NewGuid(), A("198.51.100.7"), false, T0));
        Assert.Equal(HalfOpenDecision.Start, table.TryStart(Guid.NewGuid(), A("198.51.100.8"), false, T0));
        Assert.Equal(3, table.CountFor(A("198.51.100.7")));
        // An established (or ended) session frees its peer's share.
        Assert.True(table.Forget(sessions[0]));
        Assert.False(table.Forget(sessions[0]));
        Assert.Equal(2, table.CountFor(A("198.51.100.7")));
        Assert.Equal(HalfOpenDecision.Start, table.TryStart(Guid.NewGuid(), A("198.51.100.7"), false, T0));
    }

    [Fact]
    public void Sessions_that_never_report_leave_after_the_timeout()
    {
        var table = new HalfOpenTable(cookieThreshold: 2, maxHalfOpen: 2, maxHalfOpenPerPeer: 2, TimeSpan.FromSeconds(30));
        table.TryStart(Guid.NewGuid(), A("192.0.2.1"), false, T0);
        table.TryStart(Guid.NewGuid(), A("192.0.2.1"), false, T0.AddSeconds(10));
        Assert.True(table.CookiesRequired(T0.AddSeconds(29)));
        Assert.False(table.CookiesRequired(T0.AddSeconds(31))); // the first one expired, the second is still young
        Assert.Equal(1, table.Count);
        Assert.Equal(1, table.CountFor(A("192.0.2.1")));
        Assert.False(table.CookiesRequired(T0.AddSeconds(42)));
        Assert.Equal(0, table.Count);
        Assert.Equal(0, table.CountFor(A("192.0.2.1")));
    }

    [Fact]
    public void The_table_never_holds_more_than_its_cap_whatever_arrives()
    {
        var gen = Gen.Select(Gen.Int[0, 7], Gen.Bool, Gen.Int[0, 3], Gen.Int[0, 40]).Array[1, 300];
        gen.Sample(ops =>
        {
            var table = new HalfOpenTable(cookieThreshold: 5, maxHalfOpen: 8, maxHalfOpenPerPeer: 3, TimeSpan.FromSeconds(30));
            var live = new List<Guid>();
            var now = T0;
            foreach (var (peer, cookie, action, seconds) in ops)
            {
                now = now.AddSeconds(seconds / 10.0);
                if (action == 0 && live.Count > 0)
                {
                    table.Forget(live[0]);
                    live.RemoveAt(0);
                    continue;
                }
                var s = Guid.NewGuid();
                var d = table.TryStart(s, A("203.0.113." + peer), cookie, now);
                if (d == HalfOpenDecision.Start) live.Add(s);
                if (table.Count > 8 || table.CountFor(A("203.0.113." + peer)) > 3) return false;
                if (d == HalfOpenDecision.Start && table.Count > 5 && !cookie) return false;
            }
            return true;
        });
    }

    [Fact]
    public void The_bucket_allows_a_burst_then_the_rate()
    {
        var bucket = new TokenBucket(rate: 2, burst: 3, now: 100);
        Assert.True(bucket.TryTake(100));
        Assert.True(bucket.TryTake(100));
        Assert.True(bucket.TryTake(100));
        Assert.False(bucket.TryTake(100));
        Assert.False(bucket.TryTake(100.4)); // 0.8 tokens
        Assert.True(bucket.TryTake(100.5)); // 1.0
        Assert.False(bucket.TryTake(100.5));
        Assert.True(bucket.TryTake(110)); // refills, but only to the burst
        Assert.True(bucket.TryTake(110));
        Assert.True(bucket.TryTake(110));
        Assert.False(bucket.TryTake(110));
        Assert.False(bucket.TryTake(109)); // time going backwards adds nothing
    }

    [Fact]
    public void Over_any_span_the_bucket_grants_at_most_burst_plus_rate_times_span()
    {
        Gen.Double[0, 0.5].Array[1, 200].Sample(steps =>
        {
            var bucket = new TokenBucket(rate: 5, burst: 4, now: 0);
            double now = 0;
            int granted = 0;
            foreach (var step in steps)
            {
                now += step;
                if (bucket.TryTake(now)) granted++;
            }
            return granted <= 4 + 5 * now + 1e-9;
        });
    }

    [Fact]
    public void A_bucket_needs_a_positive_rate_and_burst()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new TokenBucket(0, 1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TokenBucket(1, 0, 0));
    }

    [Fact]
    public void The_cookie_answer_bucket_grants_the_configured_burst_at_once_then_the_configured_rate()
    {
        var defaults = new EdgeOptions();
        Assert.Equal(1000, defaults.CookieAnswersPerSecond);
        Assert.Equal(2000, defaults.CookieAnswerBurst);

        var bucket = new EdgeOptions { CookieAnswersPerSecond = 100, CookieAnswerBurst = 50 }.NewCookieAnswerBucket(now: 10);
        int granted = 0;
        for (int i = 0; i < 500; i++)
            if (bucket.TryTake(10)) granted++;
        Assert.Equal(50, granted); // a flood at one instant gets the burst
        granted = 0;
        for (int i = 0; i < 500; i++)
            if (bucket.TryTake(10.5)) granted++;
        Assert.Equal(50, granted); // half a second later: rate x 0.5
    }
}
