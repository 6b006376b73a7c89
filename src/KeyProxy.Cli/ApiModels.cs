namespace KeyProxy.Cli;

// The admin API's JSON shapes (README, "Admin API"), as far as the CLI prints them. Read with unknown members
// ignored, so a newer silo with more fields still works; --json prints the API's own body instead.

public sealed record SubscriberSummary(
    string Nai,
    string? Msisdn,
    bool ProxyService,
    IReadOnlyList<ProxyCondition> Conditions,
    string IkeIdentity,
    IReadOnlyList<PskPeer> PreSharedKeyPeers,
    bool HasCertificate,
    int TrustedCaCount,
    IReadOnlyList<string> IkeProposals,
    IReadOnlyList<string> EspProposals,
    int Version,
    Attachment? Attachment);

public sealed record ProxyCondition(string PeerPrefix, int Protocol, int StartPort, int EndPort, IReadOnlyList<string> Roles, string? PeerIdentity);

public sealed record PskPeer(string PeerPrefix, string? PeerIdentity);

public sealed record Attachment(string EdgeId, string HandsetAddress, uint TunnelId, DateTimeOffset Since);

public sealed record SubscriberPage(int Total, int Skip, int Take, IReadOnlyList<SubscriberSummary> Items);

public sealed record AttachmentItem(string Nai, string EdgeId, string HandsetAddress, uint TunnelId, DateTimeOffset Since);

public sealed record Session(
    string SessionId,
    string Nai,
    string Role,
    string PeerAddress,
    string EdgeId,
    string IkeSpis,
    DateTimeOffset Since,
    string? IkeState,
    string? IkeSuite,
    DateTimeOffset? Established,
    IReadOnlyList<ChildSa>? ChildSas);

/// <summary>A CHILD_SA from the handset's side: it receives with <see cref="InboundSpi"/>, sends with <see cref="OutboundSpi"/>.</summary>
public sealed record ChildSa(string InboundSpi, string OutboundSpi, string Suite, string Mode, DateTimeOffset Established);

public sealed record EdgeStatus(
    string EdgeId,
    int Attached,
    int Routes,
    int HalfOpen,
    IReadOnlyDictionary<string, long> Packets,
    IReadOnlyDictionary<string, long> Drops,
    long GrainCalls,
    EdgePorts Ports,
    ProcessFigures Process);

public sealed record EdgePorts(int HandsetIke, int HandsetNatT, int PeerIke, int PeerNatT);

public sealed record ProcessFigures(double CpuSeconds, long AllocatedBytes, long GcHeapBytes, long WorkingSetBytes, int Gen0Collections);

/// <summary>A body and the JSON it came from (what <c>--json</c> prints).</summary>
public sealed record ApiResult<T>(T Value, System.Text.Json.JsonElement Json);
