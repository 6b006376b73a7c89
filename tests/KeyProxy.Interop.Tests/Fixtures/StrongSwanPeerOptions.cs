using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace KeyProxy.Interop.Tests.Fixtures;

public enum PeerAuth
{
    /// <summary>Pre-shared key (<see cref="StrongSwanPeerOptions.Psk"/>).</summary>
    Psk,

    /// <summary>Certificate and RFC 7427 signature (swanctl <c>auth = pubkey</c>).</summary>
    PublicKey,
}

/// <summary>swanctl <c>start_action</c> of the CHILD_SA.</summary>
public enum StartAction
{
    /// <summary>Wait: as responder, or until <see cref="StrongSwanPeer.InitiateAsync"/>.</summary>
    None,

    /// <summary>Install a trap policy; traffic matching it starts the SA (needs traffic into ipsecN).</summary>
    Trap,

    /// <summary>Initiate as soon as the config is loaded.</summary>
    Start,
}

/// <summary>
/// Everything that goes into one charon's generated strongswan.conf and swanctl.conf.
/// Defaults give a PSK responder on 127.0.0.1 with freshly allocated ports, accepting any peer.
/// </summary>
public sealed record StrongSwanPeerOptions
{
    /// <summary>Debian's strongSwan 5.9.8, or the 6.0.6 built for hybrid post-quantum key exchange.</summary>
    public StrongSwanBuild Build { get; init; } = StrongSwanBuild.Debian;

    /// <summary>Connection name in swanctl.conf (and in list-sas).</summary>
    public string ConnectionName { get; init; } = "peer";

    /// <summary>CHILD_SA name in swanctl.conf.</summary>
    public string ChildName { get; init; } = "child";

    /// <summary>
    /// Address the IKE SA is bound to (<c>local_addrs</c>). charon itself listens on the wildcard.
    /// Keep 127.0.0.1 when a CHILD_SA must be installed: kernel-libipsec needs a local address
    /// inside the local traffic selector and only recognises 127.0.0.1 among loopback addresses
    /// (see infra/strongswan/README.md).
    /// </summary>
    public IPAddress ListenAddress { get; init; } = IPAddress.Loopback;

    /// <summary>
    /// Run charon in this network namespace (its ipsec0 and routes stay there, so ESP data really
    /// crosses its userspace ESP). <see cref="ListenAddress"/> then defaults to the namespace's
    /// veth address, and charon uses only that interface.
    /// </summary>
    public NetworkNamespace? Namespace { get; init; }

    /// <summary><c>charon.port</c>; null allocates one from <see cref="PortAllocator"/>.</summary>
    public int? IkePort { get; init; }

    /// <summary><c>charon.port_nat_t</c>; null allocates one (next to an allocated IKE port).</summary>
    public int? NatTPort { get; init; }

    /// <summary>Own IKE identity; null: <c>charon-&lt;ikeport&gt;.keyproxy.test</c> (an FQDN ID).</summary>
    public string? LocalId { get; init; }

    /// <summary>Expected peer identity; null accepts any (<c>%any</c>).</summary>
    public string? RemoteId { get; init; }

    public PeerAuth Auth { get; init; } = PeerAuth.Psk;

    /// <summary>The PSK (written to swanctl.conf as hex of its UTF-8 bytes, so any text works).</summary>
    public string Psk { get; init; } = "keyproxy-interop-psk";

    /// <summary>
    /// For <see cref="PeerAuth.PublicKey"/>: the CA that issues this peer's certificate and that
    /// charon trusts. Null: the peer makes its own (see <see cref="StrongSwanPeer.Pki"/>).
    /// </summary>
    public TestPki? Pki { get; init; }

    /// <summary>Key type of the certificate issued for this peer.</summary>
    public TestKeyType KeyType { get; init; } = TestKeyType.EcdsaP256;

    /// <summary>Use this certificate and key instead of issuing one (its Identity becomes the LocalId unless set).</summary>
    public TestCredential? Credential { get; init; }

    /// <summary>Further CA certificates charon trusts (written to x509ca/).</summary>
    public IReadOnlyList<X509Certificate2> TrustedCaCertificates { get; init; } = [];

    /// <summary>swanctl <c>send_cert</c> for public-key auth; <c>always</c> so a peer need not send CERTREQ.</summary>
    public string SendCert { get; init; } = "always";

    /// <summary>IKE proposals, swanctl syntax, e.g. <c>aes128gcm16-prfsha256-x25519</c> or <c>aes256-sha256-modp2048</c>.</summary>
    public string IkeProposals { get; init; } = "aes128gcm16-prfsha256-x25519";

    /// <summary>ESP proposals; a DH group in them means PFS on CHILD_SA rekeying.</summary>
    public string EspProposals { get; init; } = "aes128gcm16";

    /// <summary><c>local_ts</c>: <c>dynamic</c> (own IKE address) or CIDR list.</summary>
    public string LocalTs { get; init; } = "dynamic";

    /// <summary><c>remote_ts</c>: <c>dynamic</c> (peer's IKE address) or CIDR list.</summary>
    public string RemoteTs { get; init; } = "dynamic";

    /// <summary><c>remote_addrs</c>: where charon initiates to; <c>%any</c> for a pure responder.</summary>
    public string RemoteAddress { get; init; } = "%any";

    /// <summary>
    /// <c>remote_port</c>: the peer's IKE port when charon initiates (e.g. our engine's socket).
    /// Null leaves charon's default (500).
    /// </summary>
    public int? RemotePort { get; init; }

    public StartAction StartAction { get; init; } = StartAction.None;

    /// <summary>IKE SA <c>rekey_time</c>; null: charon default (4 h), <see cref="TimeSpan.Zero"/> disables.</summary>
    public TimeSpan? RekeyTime { get; init; }

    /// <summary>IKE SA <c>reauth_time</c>; null: charon default (off).</summary>
    public TimeSpan? ReauthTime { get; init; }

    /// <summary><c>dpd_delay</c>; null: off.</summary>
    public TimeSpan? DpdDelay { get; init; }

    /// <summary>CHILD_SA <c>rekey_time</c>; null: charon default (1 h).</summary>
    public TimeSpan? ChildRekeyTime { get; init; }

    /// <summary>
    /// swanctl <c>encap</c>: force UDP encapsulation by faking NAT detection. kernel-libipsec fakes
    /// it anyway (charon reports <c>nat-remote=yes</c>); null leaves it unset.
    /// </summary>
    public bool? Encap { get; init; }

    /// <summary>
    /// kernel-libipsec's <c>raw_esp</c> (strongSwan 6, <see cref="StrongSwanBuild.Upstream6"/>; Debian's 5.9.8 has no such
    /// option): plain ESP (IP protocol 50) on a raw socket when no NAT is detected, instead of always faking one.
    /// </summary>
    public bool RawEsp { get; init; }

    /// <summary>swanctl <c>mobike</c>; off by default so charon never announces non-loopback addresses.</summary>
    public bool Mobike { get; init; }

    /// <summary>swanctl <c>fragmentation</c> (yes, accept, force, no); null: charon default (yes).</summary>
    public string? Fragmentation { get; init; }

    /// <summary>
    /// charon filelog levels per subsystem (dmn, mgr, ike, chd, job, cfg, knl, net, asn, enc, lib,
    /// esp, tls, tnc, imc, imv, pts; <c>default</c> for the rest): -1 silent .. 4 everything.
    /// <c>net = 2</c> logs every datagram charon receives, also those it then drops (e.g. IKE
    /// without the non-ESP marker, which it takes for ESP).
    /// </summary>
    public IReadOnlyDictionary<string, int> LogLevels { get; init; } = new Dictionary<string, int>
    {
        ["default"] = 1, ["ike"] = 2, ["cfg"] = 2, ["net"] = 2, ["enc"] = 1, ["knl"] = 1,
    };

    /// <summary>
    /// Raise <c>ike</c> to 4 so charon logs the IKE SA keys (SK_e*, SK_a*): needed by
    /// <see cref="StrongSwanPeer.GetIkeKeys"/> for tshark decryption. Never in production.
    /// </summary>
    public bool LogKeys { get; init; }

    /// <summary>
    /// charon worker threads. Long-running jobs (receiver, sender, watcher, netlink, libipsec TUN
    /// reader and ESP processors) each hold one, so fewer than about 8 leaves none for vici.
    /// </summary>
    public int Threads { get; init; } = 16;

    /// <summary><c>charon.retransmit_timeout</c> in seconds (charon default 4.0).</summary>
    public double RetransmitTimeout { get; init; } = 2.0;

    /// <summary><c>charon.retransmit_tries</c> (charon default 5).</summary>
    public int RetransmitTries { get; init; } = 3;

    /// <summary>Extra lines for the <c>charon { }</c> section (e.g. <c>dos_protection = no</c>, <c>cookie_threshold = 1</c>).</summary>
    public string? ExtraCharonConfig { get; init; }

    /// <summary>Extra lines for the connection section of swanctl.conf.</summary>
    public string? ExtraConnectionConfig { get; init; }

    /// <summary>Extra lines for the CHILD_SA section of swanctl.conf.</summary>
    public string? ExtraChildConfig { get; init; }

    /// <summary>How long to wait for charon's vici socket and the config load.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(20);
}
