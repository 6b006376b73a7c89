namespace KeyProxy.Silo.Security;

/// <summary>
/// What <see cref="ClusterPeerValidator"/> decided about a peer's certificate: <see cref="Reason"/> is a bounded metric label
/// (<c>trusted</c>, <c>untrusted</c>, <c>expired</c>, <c>wrong_usage</c>, <c>invalid</c>), <see cref="Detail"/> the chain's
/// status for the log (no key material: a certificate's subject, issuer and thumbprint are public).
/// </summary>
public sealed record PeerVerdict(bool Trusted, string Reason, string Detail)
{
    public const string TrustedReason = "trusted";
    public const string Untrusted = "untrusted";
    public const string Expired = "expired";
    public const string WrongUsage = "wrong_usage";
    public const string Invalid = "invalid";
    public const string HandshakeFailed = "handshake_failed";
}
