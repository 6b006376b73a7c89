namespace KeyProxy.Abstractions;

/// <summary>
/// What a proxy session needs to run IKE as the handset towards one peer: the identity, the PSK
/// for that peer or the certificate, the CAs to trust, proposals. Key material: never printed.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ProxyCredentials(
    [property: Id(0)] string IkeIdentity,
    [property: Id(1)] byte[]? PreSharedKey,
    [property: Id(2)] string? PeerIdentity,
    [property: Id(3)] IkeCertificateCredential? Certificate,
    [property: Id(4)] IReadOnlyList<string> TrustedCaPems,
    [property: Id(5)] IReadOnlyList<string> IkeProposals,
    [property: Id(6)] IReadOnlyList<string> EspProposals,
    [property: Id(7)] IReadOnlyList<ProxyCondition> Conditions)
{
    /// <summary>
    /// No other session of this handset with this peer is listed at the subscriber: an initiator sends INITIAL_CONTACT
    /// (RFC 7296 2.4), and the peer drops IKE SAs it still holds with the handset's identity from a session that died.
    /// </summary>
    [Id(8)]
    public bool InitialContact { get; init; }

    /// <summary>The delivery key and a reserved counter for the session's first key transfer; null when the session asks the subscriber to seal it.</summary>
    [Id(9)]
    public KeyTransferGrant? Grant { get; init; }

    public override string ToString() => $"ProxyCredentials {{ IkeIdentity = {IkeIdentity}, Psk = {(PreSharedKey is null ? "none" : "(redacted)")}, Certificate = {(Certificate is null ? "none" : "(redacted)")}, Grant = {(Grant is null ? "none" : "(redacted)")} }}";
}
