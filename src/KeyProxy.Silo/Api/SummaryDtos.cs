namespace KeyProxy.Silo.Api;

/// <summary>A subscriber as the API shows it: no secret, no keys, no PEMs.</summary>
public sealed record SubscriberSummaryDto(
    string Nai,
    string? Msisdn,
    bool ProxyService,
    IReadOnlyList<ProxyConditionView> Conditions,
    string IkeIdentity,
    IReadOnlyList<PskPeerView> PreSharedKeyPeers,
    bool HasCertificate,
    int TrustedCaCount,
    IReadOnlyList<string> IkeProposals,
    IReadOnlyList<string> EspProposals,
    int Version,
    AttachmentDto? Attachment);

public sealed record ProxyConditionView(string PeerPrefix, byte Protocol, ushort StartPort, ushort EndPort, IReadOnlyList<string> Roles, string? PeerIdentity);

public sealed record PskPeerView(string PeerPrefix, string? PeerIdentity);

public sealed record AttachmentDto(string EdgeId, string HandsetAddress, uint TunnelId, DateTimeOffset Since);

/// <summary>An attachment with its subscriber, for <c>GET /api/attachments</c>.</summary>
public sealed record AttachmentListItemDto(string Nai, string EdgeId, string HandsetAddress, uint TunnelId, DateTimeOffset Since);

/// <summary>A page of <c>GET /api/subscribers</c>.</summary>
public sealed record SubscriberListDto(int Total, int Skip, int Take, IReadOnlyList<SubscriberSummaryDto> Items);

/// <summary>
/// A live proxy session, for <c>GET /api/sessions</c>: who, where, the IKE SA (SPIs in hex, state, suite in strongSwan's
/// notation, when established) and its CHILD_SAs, as <c>swanctl --list-sas</c> shows them. No keys. Byte counts are not
/// known here: ESP goes between handset and peer through the edge without a per-SA count.
/// </summary>
public sealed record SessionDto(string SessionId, string Nai, string Role, string PeerAddress, string EdgeId, string IkeSpis, DateTimeOffset Since,
    string IkeState, string IkeSuite, DateTimeOffset? Established, IReadOnlyList<ChildSaDto> ChildSas);

/// <summary>
/// A CHILD_SA of a proxy session from the handset's side: <c>inboundSpi</c> it receives with, <c>outboundSpi</c> it sends
/// with (8 hex digits each, as swanctl prints them), the ESP suite, the mode (<c>TUNNEL-in-UDP</c>) and when established.
/// </summary>
public sealed record ChildSaDto(string InboundSpi, string OutboundSpi, string Suite, string Mode, DateTimeOffset Established);

/// <summary>400 body: every problem found.</summary>
public sealed record ErrorsDto(IReadOnlyList<string> Errors);

/// <summary>404 and 500 body.</summary>
public sealed record ErrorDto(string Error);
