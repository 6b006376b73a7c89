using KeyProxy.Ike.Messages;
using KeyProxy.Ike.Protocol;
using static KeyProxy.Ike.Tests.Protocol.TestConfigs;

namespace KeyProxy.Ike.Tests.Protocol;

/// <summary>
/// The engine tells its observer where each exchange begins and ends (issue 20 item 3, the grains' IKE spans): type,
/// message id (RFC 7296 2.2), which side requested, and the result its metric counts.
/// </summary>
public class IkeExchangeObserverTests
{
    [Fact]
    public void A_handshake_then_a_child_sa_and_a_liveness_check_are_told_exchange_by_exchange_on_both_sides()
    {
        var pair = new EnginePair(Initiator(GcmX25519), Responder(GcmX25519));
        var initiator = new Recorder();
        var responder = new Recorder();
        pair.Initiator.Observer = initiator;
        pair.Responder.Observer = responder;
        pair.Start();
        pair.RunUntilQuiet();
        pair.Initiator.CreateChildSa();
        pair.RunUntilQuiet();
        pair.Initiator.CheckLiveness();
        pair.RunUntilQuiet();

        Assert.Equal(
        [
            "start IkeSaInit 0 we", "end IkeSaInit 0 we ok",
            "start IkeAuth 1 we", "end IkeAuth 1 we ok",
            "start CreateChildSa 2 we", "end CreateChildSa 2 we ok",
            "start Informational 3 we", "end Informational 3 we ok",
        ], initiator.Seen);
        Assert.Equal(
        [
            "start IkeSaInit 0 peer", "end IkeSaInit 0 peer ok",
            "start IkeAuth 1 peer", "end IkeAuth 1 peer ok",
            "start CreateChildSa 2 peer", "end CreateChildSa 2 peer ok",
            "start Informational 3 peer", "end Informational 3 peer ok",
        ], responder.Seen);
    }

    [Fact]
    public void A_wrong_psk_ends_ike_auth_with_error_and_a_silent_peer_with_timeout()
    {
        var refused = new EnginePair(Initiator(GcmX25519, psk: "not the secret at all"u8.ToArray()), Responder(GcmX25519));
        var recorder = new Recorder();
        refused.Initiator.Observer = recorder;
        refused.Start();
        refused.RunUntilQuiet();
        Assert.Equal(["start IkeSaInit 0 we", "end IkeSaInit 0 we ok", "start IkeAuth 1 we", "end IkeAuth 1 we error"], recorder.Seen);

        var silent = new EnginePair(Initiator(GcmX25519), Responder(GcmX25519)) { Copies = (toResponder, _) => toResponder ? 0 : 1 };
        var timedOut = new Recorder();
        silent.Initiator.Observer = timedOut;
        silent.Start();
        silent.RunUntilQuiet(TimeSpan.FromMinutes(10));
        // One exchange however many retransmissions (RFC 7296 2.1): one start, one end.
        Assert.Equal(["start IkeSaInit 0 we", "end IkeSaInit 0 we timeout"], timedOut.Seen);
    }

    private sealed class Recorder : IIkeExchangeObserver
    {
        public List<string> Seen { get; } = [];

        public void ExchangeStarted(ExchangeType exchange, uint messageId, bool weRequested) =>
            Seen.Add($"start {exchange} {messageId} {(weRequested ? "we" : "peer")}");

        public void ExchangeEnded(ExchangeType exchange, uint messageId, bool weRequested, string result) =>
            Seen.Add($"end {exchange} {messageId} {(weRequested ? "we" : "peer")} {result}");
    }
}
