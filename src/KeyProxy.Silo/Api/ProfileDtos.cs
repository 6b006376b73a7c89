namespace KeyProxy.Silo.Api;

/// <summary>
/// Body of <c>PUT /api/subscribers/{nai}</c>. Binary fields (<see cref="Secret"/>, PSK keys) are strings with an
/// encoding prefix: "hex:00112233...", "base64:ABEiMw==" or "text:" followed by UTF-8 text.
/// </summary>
public sealed record SubscriberProfileDto(
    string? Nai,
    string? Msisdn,
    string? Secret,
    bool ProxyService,
    IReadOnlyList<ProxyConditionDto?>? Conditions,
    string? IkeIdentity,
    IReadOnlyList<PeerPskDto?>? PreSharedKeys,
    CertificateDto? Certificate,
    IReadOnlyList<string?>? TrustedCaPems,
    IReadOnlyList<string?>? IkeProposals,
    IReadOnlyList<string?>? EspProposals);

/// <summary>An application condition; ports default to 0..65535, protocol to 0 (any), roles are "initiator" and/or "responder".</summary>
public sealed record ProxyConditionDto(
    string? PeerPrefix,
    byte Protocol = 0,
    ushort StartPort = 0,
    ushort EndPort = ushort.MaxValue,
    IReadOnlyList<string?>? Roles = null,
    string? PeerIdentity = null);

/// <summary>A pre-shared key for peers in <see cref="PeerPrefix"/>; <see cref="Key"/> uses the binary prefixes.</summary>
public sealed record PeerPskDto(string? PeerPrefix, string? PeerIdentity, string? Key);

/// <summary>Certificate and unencrypted private key, both PEM.</summary>
public sealed record CertificateDto(string? CertificatePem, string? PrivateKeyPem);
