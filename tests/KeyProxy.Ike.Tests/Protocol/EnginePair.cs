using KeyProxy.Ike.Messages;
using KeyProxy.Ike.Protocol;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Tests.Protocol;

/// <summary>
/// Two engines wired back to back in memory, with a network that can lose, duplicate and reorder datagrams.
/// Time only moves when the test (or <see cref="RunUntilQuiet"/>) moves it.
/// </summary>
public sealed class EnginePair
{
    private readonly List<(bool ToResponder, SendDatagram Datagram)> _inFlight = [];
    private readonly Random _random;

    private readonly IkeSessionConfig _responderConfig;
    private readonly IkeServices _services;

    public EnginePair(IkeSessionConfig initiatorConfig, IkeSessionConfig responderConfig, int seed = 1, DateTimeOffset? start = null,
        KeyProxy.Ike.Crypto.IKeyExchangeProvider? keyExchange = null)
    {
        _random = new Random(seed);
        Clock = start is { } at ? new ManualClock(at) : new ManualClock();
        _services = new IkeServices(Clock, SecureRandomSource.Instance, keyExchange ?? KeyProxy.Ike.Crypto.DefaultKeyExchangeProvider.Instance);
        _responderConfig = responderConfig;
        Initiator = IkeSession.CreateInitiator(initiatorConfig, _services);
        Responder = IkeSession.CreateResponder(responderConfig, _services);
    }

    public ManualClock Clock { get; }
    public IkeSession Initiator { get; }
    /// <summary>The responder; like a real host, a new one is made for an IKE_SA_INIT after a refused one (RFC 7296 1.2: no state kept).</summary>
    public IkeSession Responder { get; private set; }
    public List<IkeEvent> InitiatorEvents { get; } = [];
    public List<IkeEvent> ResponderEvents { get; } = [];
    public List<SendDatagram> SentByInitiator { get; } = [];
    public List<SendDatagram> SentByResponder { get; } = [];

    /// <summary>Decides the fate of each datagram: how many copies arrive (0 = lost).</summary>
    public Func<bool, SendDatagram, int> Copies { get; set; } = (_, _) => 1;

    /// <summary>Deliver datagrams in random order instead of FIFO.</summary>
    public bool Reorder { get; set; }

    /// <summary>A stateless cookie gate in front of the responder (RFC 7296 2.6), when set.</summary>
    public CookieGenerator? ResponderCookies { get; set; }
    public int CookiesSent { get; private set; }

    public void Start()
    {
        Initiator.Start();
        Collect();
    }

    /// <summary>Delivers datagrams and fires timers until nothing is left to do or the time budget runs out.</summary>
    public void RunUntilQuiet(TimeSpan? budget = null)
    {
        var end = Clock.UtcNow + (budget ?? TimeSpan.FromMinutes(2));
        for (var steps = 0; steps < 100_000; steps++)
        {
            Collect();
            if (_inFlight.Count > 0)
            {
                var index = Reorder ? _random.Next(_inFlight.Count) : 0;
                var (toResponder, datagram) = _inFlight[index];
                _inFlight.RemoveAt(index);
                Deliver(toResponder, datagram);
                continue;
            }
            var next = Earliest(Initiator.NextDeadline, Responder.NextDeadline);
            if (next is null || next > end) return;
            Clock.AdvanceTo(next.Value);
            Initiator.HandleTimer();
            Responder.HandleTimer();
        }
        throw new InvalidOperationException("engines did not settle");
    }

    private void Deliver(bool toResponder, SendDatagram datagram)
    {
        if (toResponder && ResponderCookies is { } cookies
            && CookieChallenge.IsIkeSaInitRequest(datagram.Data.Span, out _)
            && IkeCodec.TryDecode(datagram.Data, out var request, out _)
            && !CookieChallenge.HasValidCookie(request, System.Net.IPAddress.Loopback, cookies))
        {
            CookiesSent++;
            var reply = CookieChallenge.BuildResponse(request, System.Net.IPAddress.Loopback, cookies)!;
            Initiator.HandleDatagram(reply);
            return;
        }
        if (toResponder && Responder.State == IkeSessionState.Closed && CookieChallenge.IsIkeSaInitRequest(datagram.Data.Span, out _))
            Responder = IkeSession.CreateResponder(_responderConfig, _services);
        if (toResponder) Responder.HandleDatagram(datagram.Data, datagram.NatTraversal);
        else Initiator.HandleDatagram(datagram.Data, datagram.NatTraversal);
    }

    private void Collect()
    {
        Take(Initiator, toResponder: true, InitiatorEvents, SentByInitiator);
        Take(Responder, toResponder: false, ResponderEvents, SentByResponder);
    }

    private void Take(IkeSession session, bool toResponder, List<IkeEvent> events, List<SendDatagram> sent)
    {
        foreach (var output in session.TakeOutputs())
        {
            switch (output)
            {
                case SendDatagram d:
                    sent.Add(d);
                    for (var i = Copies(toResponder, d); i > 0; i--) _inFlight.Add((toResponder, d));
                    break;
                case IkeEvent e:
                    events.Add(e);
                    break;
            }
        }
    }

    private static DateTimeOffset? Earliest(DateTimeOffset? a, DateTimeOffset? b) =>
        a is null ? b : b is null ? a : a < b ? a : b;
}
