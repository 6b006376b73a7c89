using System.Diagnostics.Metrics;
using KeyProxy.Ike.Protocol;
using KeyProxy.Primitives;
using static KeyProxy.Ike.Tests.Protocol.TestConfigs;

namespace KeyProxy.Ike.Tests.Protocol;

/// <summary>
/// The engine's meter "KeyProxy.Ike": exchanges by type, side and result, retransmissions, cookies. Engines in memory
/// run on the test's thread, so only this thread's measurements count (other tests share the static meter).
/// </summary>
public class IkeMetricsTests
{
    [Fact]
    public void A_cookie_round_trip_then_ike_auth_counts_its_exchanges_and_cookies()
    {
        using var seen = new Recorder();
        var pair = new EnginePair(Initiator(GcmX25519), Responder(GcmX25519)) { ResponderCookies = new CookieGenerator(SecureRandomSource.Instance) };
        pair.Start();
        pair.RunUntilQuiet();

        Assert.Equal(1, seen.Count("keyproxy.ike.exchanges", "ike.exchange.type=ike_sa_init", "ike.exchange.side=initiator", "ike.exchange.result=cookie"));
        Assert.Equal(1, seen.Count("keyproxy.ike.exchanges", "ike.exchange.type=ike_sa_init", "ike.exchange.side=initiator", "ike.exchange.result=ok"));
        Assert.Equal(1, seen.Count("keyproxy.ike.exchanges", "ike.exchange.type=ike_sa_init", "ike.exchange.side=responder", "ike.exchange.result=ok"));
        Assert.Equal(1, seen.Count("keyproxy.ike.exchanges", "ike.exchange.type=ike_auth", "ike.exchange.side=initiator", "ike.exchange.result=ok"));
        Assert.Equal(1, seen.Count("keyproxy.ike.exchanges", "ike.exchange.type=ike_auth", "ike.exchange.side=responder", "ike.exchange.result=ok"));
        Assert.Equal(1, seen.Count("keyproxy.ike.cookies", "ike.cookie.action=sent"));
        Assert.Equal(1, seen.Count("keyproxy.ike.cookies", "ike.cookie.action=received"));
        Assert.Equal(1, seen.Count("keyproxy.ike.cookies", "ike.cookie.action=valid"));
        Assert.Equal(0, seen.Count("keyproxy.ike.retransmissions"));
    }

    [Fact]
    public void A_silent_peer_costs_retransmissions_then_a_timed_out_exchange()
    {
        using var seen = new Recorder();
        var pair = new EnginePair(Initiator(GcmX25519), Responder(GcmX25519)) { Copies = (toResponder, _) => toResponder ? 0 : 1 };
        pair.Start();
        pair.RunUntilQuiet(TimeSpan.FromMinutes(10));

        Assert.Equal(RetransmissionPolicy.Default.MaxTransmissions - 1, seen.Count("keyproxy.ike.retransmissions", "ike.exchange.type=ike_sa_init"));
        Assert.Equal(1, seen.Count("keyproxy.ike.exchanges", "ike.exchange.type=ike_sa_init", "ike.exchange.side=initiator", "ike.exchange.result=timeout"));
    }

    [Fact]
    public void A_wrong_psk_is_an_ike_auth_error_on_both_sides()
    {
        using var seen = new Recorder();
        var pair = new EnginePair(Initiator(GcmX25519, psk: "not the secret at all"u8.ToArray()), Responder(GcmX25519));
        pair.Start();
        pair.RunUntilQuiet();

        Assert.Equal(1, seen.Count("keyproxy.ike.exchanges", "ike.exchange.type=ike_auth", "ike.exchange.side=responder", "ike.exchange.result=error"));
        Assert.Equal(1, seen.Count("keyproxy.ike.exchanges", "ike.exchange.type=ike_auth", "ike.exchange.side=initiator", "ike.exchange.result=error"));
    }

    /// <summary>Measurements of meter KeyProxy.Ike made on the creating thread, as "name" and "key=value" tags.</summary>
    private sealed class Recorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly int _thread = Environment.CurrentManagedThreadId;
        private readonly List<(string Name, long Value, string[] Tags)> _seen = [];

        public Recorder()
        {
            _listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == IkeMetrics.MeterName) l.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            {
                if (Environment.CurrentManagedThreadId != _thread) return;
                var t = new List<string>();
                foreach (var tag in tags) t.Add($"{tag.Key}={tag.Value}");
                lock (_seen) _seen.Add((instrument.Name, value, [.. t]));
            });
            _listener.Start();
        }

        public long Count(string name, params string[] tags)
        {
            lock (_seen) return _seen.Where(s => s.Name == name && tags.All(s.Tags.Contains)).Sum(s => s.Value);
        }

        public void Dispose() => _listener.Dispose();
    }
}
