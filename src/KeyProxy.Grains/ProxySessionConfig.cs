using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using KeyProxy.Abstractions;
using KeyProxy.Ike.Auth;
using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Messages;
using KeyProxy.Ike.Protocol;
using KeyProxy.Primitives;
using KeyProxy.Wire;
using KeyProxy.Wire.Proxy;

namespace KeyProxy.Grains;

/// <summary>
/// Builds the IKE engine's configuration for a proxy session from the subscriber's credentials,
/// the handset's binding and (as initiator) its proxy request: the proxy speaks as the handset's
/// address and identity, proposes what both the profile and the handset accept, and asks for the
/// selectors the handset asked for.
/// </summary>
internal static class ProxySessionConfig
{
    public static IkeSessionConfig? ForInitiator(ProxyCredentials credentials, HandsetBinding handset, IPAddress peer, ProxyRequest request,
        ProxyNetworkOptions options, uint? firstChildInboundSpi, out string? error)
    {
        error = null;
        var handsetAddress = IPAddress.Parse(handset.HandsetAddress);
        // The handset may only ask for its own address on its side.
        foreach (var ts in request.InitiatorSelectors)
        {
            if (!ts.StartAddress.Equals(handsetAddress) || !ts.EndAddress.Equals(handsetAddress))
            {
                error = $"TSi {ts.StartAddress}-{ts.EndAddress} is not the handset's address {handsetAddress}";
                return null;
            }
        }
        var esp = Offered(credentials, request.Suites);
        if (esp.Count == 0)
        {
            error = "none of the handset's ESP suites is allowed by its profile";
            return null;
        }
        return Build(credentials, handsetAddress, handset, new IPEndPoint(peer, options.PeerIkePort), options, esp,
            request.InitiatorSelectors.Count > 0 ? request.InitiatorSelectors : [TrafficSelectorNarrowing.ForHost(handsetAddress)],
            request.ResponderSelectors.Count > 0 ? request.ResponderSelectors : [TrafficSelectorNarrowing.ForHost(peer)],
            // The handset waits for it: it must hear in time. INITIAL_CONTACT (RFC 7296 2.4) when the subscriber lists no
            // other session of this handset with this peer: a peer side left over from a predecessor that died is dropped.
            establishTimeout: options.EstablishTimeout, sendInitialContact: credentials.InitialContact, firstChildInboundSpi);
    }

    public static IkeSessionConfig? ForResponder(ProxyCredentials credentials, HandsetBinding handset, IPEndPoint peer, ProxyNetworkOptions options,
        uint? firstChildInboundSpi = null)
    {
        var handsetAddress = IPAddress.Parse(handset.HandsetAddress);
        // What the profile allows with this peer bounds what the peer may ask for (RFC 7296 2.9 narrowing).
        var remote = new List<TrafficSelector>();
        foreach (var c in credentials.Conditions)
        {
            if ((c.Roles & ProxyRoles.Responder) == 0 || !NetworkPrefix.TryParse(c.PeerPrefix, out var network, out _) || !network.Contains(peer.Address)) continue;
            remote.Add(TrafficSelectorNarrowing.ForPrefix(network.BaseAddress, network.PrefixLength, c.Protocol, c.StartPort, c.EndPort));
        }
        if (remote.Count == 0) return null;
        // Only what the handset can run (it said so at attach) and the profile allows: the handset refuses anything else.
        var esp = Offered(credentials, [.. handset.EspSuites.Select(s => new EspSuitePreference(
            (EncryptionAlgorithm)s.Encryption, s.KeyBits, (IntegrityAlgorithm)s.Integrity, s.Esn ? EsnMode.Esn : EsnMode.NoEsn))]);
        if (esp.Count == 0) return null;
        return Build(credentials, handsetAddress, handset, peer, options, esp, [TrafficSelectorNarrowing.ForHost(handsetAddress)], remote,
            establishTimeout: null, sendInitialContact: false, firstChildInboundSpi);
    }

    /// <summary>The engine's configuration, built once (no record copies per SA).</summary>
    private static IkeSessionConfig Build(ProxyCredentials credentials, IPAddress handsetAddress, HandsetBinding handset, IPEndPoint peer,
        ProxyNetworkOptions options, IReadOnlyList<EspSuite> esp, IReadOnlyList<TrafficSelector> local, IReadOnlyList<TrafficSelector> remote,
        TimeSpan? establishTimeout, bool sendInitialContact, uint? firstChildInboundSpi)
    {
        IkeCredential credential;
        PeerAuthentication peerAuthentication;
        if (credentials.PreSharedKey is { } psk)
        {
            // One copy of the key: the same credential proves us and checks the peer (RFC 7296 2.15, one PSK per peer).
            var preSharedKey = new PreSharedKeyCredential(psk);
            credential = preSharedKey;
            peerAuthentication = PeerAuthentication.WithPreSharedKey(preSharedKey);
        }
        else
        {
            var certificate = X509Certificate2.CreateFromPem(credentials.Certificate!.CertificatePem, credentials.Certificate.PrivateKeyPem);
            credential = new CertificateCredential(certificate);
            var anchors = new List<X509Certificate2>();
            foreach (var pem in credentials.TrustedCaPems) anchors.Add(X509Certificate2.CreateFromPem(pem));
            peerAuthentication = PeerAuthentication.WithTrustAnchors(anchors);
        }
        var ike = new List<IkeSuite>(credentials.IkeProposals.Count);
        for (var i = 0; i < credentials.IkeProposals.Count; i++) ike.Add(ParsedIke(credentials.IkeProposals[i]));
        return new IkeSessionConfig
        {
            LocalIdentity = Identity(credentials.IkeIdentity),
            LocalCredential = credential,
            PeerAuthentication = peerAuthentication,
            RemoteIdentity = credentials.PeerIdentity is { } peerId ? Identity(peerId) : null,
            IkeProposals = ike,
            Child = new ChildSaConfig
            {
                Proposals = esp,
                LocalSelectors = local,
                RemoteSelectors = remote,
                RekeyAfter = options.ChildRekeyAfter,
                ExpireAfter = options.ChildExpireAfter,
            },
            LocalEndpoint = new IPEndPoint(handsetAddress, options.HandsetIkePort),
            RemoteEndpoint = peer,
            LocalNatTraversalPort = options.HandsetNatTPort,
            RemoteNatTraversalPort = options.PeerNatTPort,
            ForceUdpEncapsulation = ForcesUdpEncapsulation(handset, options),
            IkeRekeyAfter = options.IkeRekeyAfter,
            LivenessInterval = options.LivenessInterval,
            // Settings (issue 8): the fault and flood tests shorten them to see dead peers and half-open SAs end.
            Retransmission = Retransmission(options),
            HalfOpenTimeout = options.HalfOpenTimeout,
            EstablishTimeout = establishTimeout,
            SendInitialContact = sendInitialContact,
            FirstChildInboundSpi = firstChildInboundSpi,
        };
    }

    /// <summary>The last policy built, kept: the settings do not change while the silo runs, the policy is immutable.</summary>
    private static RetransmissionPolicy? s_retransmission;

    private static RetransmissionPolicy Retransmission(ProxyNetworkOptions options)
    {
        var last = s_retransmission;
        if (last is not null && last.InitialTimeout == options.RetransmitTimeout && last.MaxTransmissions == options.MaxTransmissions) return last;
        return s_retransmission = RetransmissionPolicy.Default with { InitialTimeout = options.RetransmitTimeout, MaxTransmissions = options.MaxTransmissions };
    }

    /// <summary>
    /// Proposals as text, parsed once: every session of every subscriber with a profile names the same few (the profiles'
    /// proposals), and the suites are immutable. Bounded, in case profiles come and go: past the bound, parsed per call.
    /// </summary>
    private const int MaxCachedProposals = 256;
    private static readonly ConcurrentDictionary<string, IkeSuite> s_ikeProposals = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, EspSuite> s_espProposals = new(StringComparer.Ordinal);

    private static IkeSuite ParsedIke(string text)
    {
        if (s_ikeProposals.TryGetValue(text, out var suite)) return suite;
        suite = IkeSuiteNames.ParseIke(text);
        if (s_ikeProposals.Count < MaxCachedProposals) s_ikeProposals.TryAdd(text, suite);
        return suite;
    }

    private static EspSuite ParsedEsp(string text)
    {
        if (s_espProposals.TryGetValue(text, out var suite)) return suite;
        suite = SuiteNames.ParseEsp(text);
        if (s_espProposals.Count < MaxCachedProposals) s_espProposals.TryAdd(text, suite);
        return suite;
    }

    /// <summary>
    /// Whether the session fakes a NAT (RFC 7296 2.23) so that its CHILD_SAs are UDP-encapsulated (RFC 3948) whatever the
    /// peer sees: when the settings say so, and when the handset's edge cannot carry plain ESP (the socket path has only UDP
    /// sockets on the handset's IKE and NAT-T ports). Otherwise NAT detection decides: plain ESP when none is detected.
    /// </summary>
    public static bool ForcesUdpEncapsulation(HandsetBinding handset, ProxyNetworkOptions options) =>
        options.ForceUdpEncapsulation || !handset.EdgeCarriesPlainEsp;

    /// <summary>
    /// The handset's suites in its order of preference, where the profile allows them; the profile's alone when the
    /// handset named none (a handset that says nothing leaves the choice to the network, docs/wire.md).
    /// </summary>
    private static List<EspSuite> Offered(ProxyCredentials credentials, IReadOnlyList<EspSuitePreference> offered)
    {
        var allowed = new List<EspSuite>(credentials.EspProposals.Count);
        for (var i = 0; i < credentials.EspProposals.Count; i++) allowed.Add(ParsedEsp(credentials.EspProposals[i]));
        if (offered.Count == 0) return allowed;
        var chosen = new List<EspSuite>(allowed.Count);
        for (var i = 0; i < offered.Count; i++)
        {
            var wanted = offered[i];
            foreach (var a in allowed)
                if (a.Encryption == wanted.Encryption && a.EncryptionKeyBits == wanted.KeyBits && a.Integrity == wanted.Integrity && a.Esn == wanted.Esn)
                    chosen.Add(a);
        }
        return chosen;
    }

    public static IkeIdentity Identity(string text)
    {
        if (!IkeIdentityText.TryParse(text, out var kind, out var value, out var error))
            throw new ArgumentException($"IKE identity {error}");
        return kind switch
        {
            IkeIdentityKind.Fqdn => IkeIdentity.Fqdn(value),
            IkeIdentityKind.Email => IkeIdentity.Rfc822(value),
            IkeIdentityKind.Ipv4 or IkeIdentityKind.Ipv6 => IkeIdentity.FromIPAddress(IPAddress.Parse(value)),
            IkeIdentityKind.Dn => IkeIdentity.DistinguishedName(value),
            _ => IkeIdentity.KeyId(Convert.FromHexString(value)),
        };
    }

    public static KeyProxyReason ReasonFor(IkeCloseReason reason) => reason switch
    {
        IkeCloseReason.AuthenticationFailed => KeyProxyReason.PeerAuthenticationFailed,
        IkeCloseReason.NoProposalChosen => KeyProxyReason.NoProposalChosen,
        IkeCloseReason.Timeout => KeyProxyReason.Timeout,
        _ => KeyProxyReason.IkeFailed,
    };

    /// <summary>What the handset is told when the IKE SA it waited for closed (RFC 7296 2.4: a peer that never answered is "not responding").</summary>
    public static string TextFor(IkeSaClosed closed) => closed.Reason == IkeCloseReason.Timeout
        ? "peer not responding" + (closed.Detail is { } why ? ": " + why : "")
        : closed.Detail ?? closed.Reason.ToString();

    public static KeyProxyReason ReasonFor(NotifyType notify) => notify switch
    {
        NotifyType.TsUnacceptable => KeyProxyReason.TsUnacceptable,
        NotifyType.NoProposalChosen => KeyProxyReason.NoProposalChosen,
        NotifyType.AuthenticationFailed => KeyProxyReason.PeerAuthenticationFailed,
        _ => KeyProxyReason.IkeFailed,
    };
}
