namespace KeyProxy.Abstractions;

/// <summary>
/// The master service profile of one subscriber (the seed's authentication server and service management):
/// identity, the subscriber secret (attach authentication and key-transfer delivery keys are derived from it),
/// the proxy service entitlement with its application conditions, and the IKE credentials the proxy uses on
/// the handset's behalf. Key material never appears in <see cref="ToString"/>.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record SubscriberProfile
{
    public const string DefaultIkeProposal = "aes128gcm16-prfsha256-x25519";
    public const string DefaultEspProposal = "aes128gcm16";

    /// <summary>Network Access Identifier (RFC 7542), e.g. "alice@keyproxy.test"; the SubscriberGrain's key.</summary>
    [Id(0)] public string Nai { get; init; } = "";

    /// <summary>E.164 number as digits, or null.</summary>
    [Id(1)] public string? Msisdn { get; init; }

    /// <summary>The subscriber secret shared with the handset, at least <see cref="SubscriberProfileValidator.MinSecretLength"/> bytes.</summary>
    [Id(2)] [StoredSecret] public byte[] Secret { get; init; } = [];

    /// <summary>Entitled to the key exchange proxy service.</summary>
    [Id(3)] public bool ProxyService { get; init; }

    /// <summary>Where the proxy service applies; a proxy request or peer IKE outside every condition is refused.</summary>
    [Id(4)] public IReadOnlyList<ProxyCondition> Conditions { get; init; } = [];

    /// <summary>The IKE identity the proxy presents to peers on the handset's behalf: "fqdn:...", "email:...", "ipv4:...", "ipv6:...", "dn:...", "keyid:(hex)".</summary>
    [Id(5)] public string IkeIdentity { get; init; } = "";

    /// <summary>Pre-shared keys per peer prefix (and optionally peer identity).</summary>
    [Id(6)] public IReadOnlyList<PeerPsk> PreSharedKeys { get; init; } = [];

    /// <summary>Certificate and key for signature authentication, or null.</summary>
    [Id(7)] public IkeCertificateCredential? Certificate { get; init; }

    /// <summary>CA certificates (PEM) that peers' certificates must chain to.</summary>
    [Id(8)] public IReadOnlyList<string> TrustedCaPems { get; init; } = [];

    /// <summary>IKE SA proposals, strongSwan style, most preferred first.</summary>
    [Id(9)] public IReadOnlyList<string> IkeProposals { get; init; } = [DefaultIkeProposal];

    /// <summary>ESP CHILD_SA proposals, strongSwan style, most preferred first.</summary>
    [Id(10)] public IReadOnlyList<string> EspProposals { get; init; } = [DefaultEspProposal];

    /// <summary>Bumped by the SubscriberGrain on every change; edges compare it to know their copy is current.</summary>
    [Id(11)] public int Version { get; init; }

    public override string ToString() =>
        $"SubscriberProfile {{ Nai = {Nai}, Msisdn = {Msisdn ?? "none"}, Secret = ({Secret?.Length ?? 0} bytes), ProxyService = {ProxyService}, " +
        $"Conditions = {Conditions?.Count ?? 0}, IkeIdentity = {IkeIdentity}, PreSharedKeys = {PreSharedKeys?.Count ?? 0}, " +
        $"Certificate = {(Certificate is null ? "none" : "present")}, TrustedCas = {TrustedCaPems?.Count ?? 0}, " +
        $"IkeProposals = [{string.Join(", ", IkeProposals ?? [])}], EspProposals = [{string.Join(", ", EspProposals ?? [])}], Version = {Version} }}";
}
