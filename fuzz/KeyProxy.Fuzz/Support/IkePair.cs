using System.Net;
using System.Text;
using KeyProxy.Ike.Auth;
using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Messages;
using KeyProxy.Ike.Protocol;
using KeyProxy.Primitives;

namespace KeyProxy.Fuzz.Support;

/// <summary>
/// Two IKE engines back to back in memory, made deterministic (seeded randomness, a fake DH, a clock that does
/// not move): every <see cref="Establish"/> with the same suite replays the same handshake, byte for byte, so the
/// IKE SA keys are known (<see cref="Keys"/>) and recorded messages stay valid for a fresh pair.
/// </summary>
public sealed class IkePair
{
    public static readonly IPEndPoint InitiatorEndpoint = new(IPAddress.Parse("127.0.0.10"), 500);
    public static readonly IPEndPoint ResponderEndpoint = new(IPAddress.Parse("127.0.0.20"), 500);
    private static readonly byte[] Psk = Encoding.ASCII.GetBytes("keyproxy fuzzing psk (not a secret)");

    public static readonly IkeSuite Gcm = new(EncryptionAlgorithm.AesGcm16, 128, IntegrityAlgorithm.None, PrfAlgorithm.HmacSha2_256, DhGroup.Curve25519);
    public static readonly IkeSuite Cbc = new(EncryptionAlgorithm.AesCbc, 256, IntegrityAlgorithm.HmacSha2_256_128, PrfAlgorithm.HmacSha2_256, DhGroup.Curve25519);
    public static readonly EspSuite EspGcm = new(EncryptionAlgorithm.AesGcm16, 128, IntegrityAlgorithm.None, EsnMode.NoEsn);
    public static readonly EspSuite EspCbc = new(EncryptionAlgorithm.AesCbc, 128, IntegrityAlgorithm.HmacSha2_256_128, EsnMode.NoEsn);

    private readonly FakeKeyExchangeProvider _keyExchange;

    private IkePair(IkeSuite suite, EspSuite esp)
    {
        _keyExchange = new FakeKeyExchangeProvider(1);
        Initiator = IkeSession.CreateInitiator(Config(suite, esp, initiator: true), new IkeServices(FixedClock.Instance, new SeededRandom(1), _keyExchange));
        Responder = IkeSession.CreateResponder(Config(suite, esp, initiator: false), new IkeServices(FixedClock.Instance, new SeededRandom(2), _keyExchange));
        Suite = suite;
    }

    public IkeSuite Suite { get; }
    public IkeSession Initiator { get; }
    public IkeSession Responder { get; }

    /// <summary>Every datagram delivered so far, in order, with its direction.</summary>
    public List<(bool ToResponder, byte[] Datagram)> Delivered { get; } = [];

    public List<IkeEvent> Events { get; } = [];

    /// <summary>The IKE SA keys of the initial exchange (derived again from the recorded IKE_SA_INIT).</summary>
    public IkeSaKeys? Keys { get; private set; }

    /// <summary>
    /// IKE_SA_INIT only: afterwards the responder waits for IKE_AUTH (message ID 1) and the initiator's IKE_AUTH
    /// request is queued in its outputs, not delivered (<see cref="Drain"/> it to keep it from the responder).
    /// </summary>
    public static IkePair BeginAuth(IkeSuite suite, EspSuite esp)
    {
        var pair = new IkePair(suite, esp);
        pair.Initiator.Start();
        pair.DeliverOne(pair.Initiator, pair.Responder, toResponder: true);
        pair.DeliverOne(pair.Responder, pair.Initiator, toResponder: false);
        return pair;
    }

    /// <summary>IKE_SA_INIT and IKE_AUTH with PSK, one CHILD_SA. Both sides are established afterwards.</summary>
    public static IkePair Establish(IkeSuite suite, EspSuite esp)
    {
        var pair = BeginAuth(suite, esp);
        pair.Pump();
        if (pair.Initiator.State != IkeSessionState.Established || pair.Responder.State != IkeSessionState.Established)
            throw new InvalidOperationException($"fuzz handshake did not establish: {pair.Initiator.State}/{pair.Responder.State}");
        return pair;
    }

    /// <summary>Delivers datagrams in both directions until neither side has anything to send.</summary>
    public void Pump(int maxDatagrams = 64)
    {
        for (var i = 0; i < maxDatagrams; i++)
        {
            if (!DeliverOne(Initiator, Responder, toResponder: true) && !DeliverOne(Responder, Initiator, toResponder: false))
                return;
        }
    }

    /// <summary>Drains a session's outputs without delivering its datagrams.</summary>
    public List<byte[]> Drain(IkeSession session)
    {
        var sent = new List<byte[]>();
        foreach (var output in session.TakeOutputs())
        {
            if (output is SendDatagram d) sent.Add(d.Data.ToArray());
            else if (output is IkeEvent e) Events.Add(e);
        }
        return sent;
    }

    private bool DeliverOne(IkeSession from, IkeSession to, bool toResponder)
    {
        var any = false;
        foreach (var datagram in Drain(from))
        {
            any = true;
            Delivered.Add((toResponder, datagram));
            if (Keys is null && Delivered.Count == 2)
                Keys = DeriveKeys();
            to.HandleDatagram(datagram);
        }
        return any;
    }

    private IkeSaKeys DeriveKeys()
    {
        if (!IkeCodec.TryDecode(Delivered[0].Datagram, out var request, out _) || !IkeCodec.TryDecode(Delivered[1].Datagram, out var response, out _))
            throw new InvalidOperationException("recorded IKE_SA_INIT does not decode");
        var nonceI = request.Find<NoncePayload>()!.Nonce.Span;
        var nonceR = response.Find<NoncePayload>()!.Nonce.Span;
        return IkeKeyDerivation.DeriveIkeSaKeys(Suite, _keyExchange.LastSharedSecret!, nonceI, nonceR, response.InitiatorSpi, response.ResponderSpi, out _);
    }

    /// <summary>A lone responder (stateless until an IKE_SA_INIT request arrives), with the fuzzing services.</summary>
    public static IkeSession CreateResponder() =>
        IkeSession.CreateResponder(Config(Gcm, EspGcm, initiator: false), new IkeServices(FixedClock.Instance, new SeededRandom(2), new FakeKeyExchangeProvider(2)));

    /// <summary>A lone initiator (call Start to send IKE_SA_INIT), with the fuzzing services.</summary>
    public static IkeSession CreateInitiator() =>
        IkeSession.CreateInitiator(Config(Gcm, EspGcm, initiator: true), new IkeServices(FixedClock.Instance, new SeededRandom(1), new FakeKeyExchangeProvider(1)));

    private static IkeSessionConfig Config(IkeSuite suite, EspSuite esp, bool initiator)
    {
        var initiatorNet = TrafficSelectorNarrowing.ForPrefix(IPAddress.Parse("10.1.0.0"), 16);
        var responderNet = TrafficSelectorNarrowing.ForPrefix(IPAddress.Parse("10.2.0.0"), 16);
        return new IkeSessionConfig
        {
            LocalIdentity = IkeIdentity.Fqdn(initiator ? "initiator.fuzz" : "responder.fuzz"),
            LocalCredential = new PreSharedKeyCredential(Psk),
            PeerAuthentication = PeerAuthentication.WithPreSharedKey(Psk),
            RemoteIdentity = initiator ? IkeIdentity.Fqdn("responder.fuzz") : null,
            IkeProposals = [suite],
            Child = new ChildSaConfig
            {
                Proposals = [esp],
                LocalSelectors = [initiator ? initiatorNet : responderNet],
                RemoteSelectors = [initiator ? responderNet : initiatorNet],
            },
            LocalEndpoint = initiator ? InitiatorEndpoint : ResponderEndpoint,
            RemoteEndpoint = initiator ? ResponderEndpoint : InitiatorEndpoint,
        };
    }
}
