using System.Security.Cryptography.X509Certificates;
using KeyProxy.Ike.Messages;

namespace KeyProxy.Ike.Auth;

/// <summary>
/// The outcome of verifying a peer's IKE_AUTH: success with the proven identity (and certificate),
/// or a failure reason with a human explanation. Expected failures are results, not exceptions.
/// </summary>
public sealed class AuthResult
{
    private AuthResult(AuthFailureReason failure, string reason, IkeIdentity? peerIdentity, X509Certificate2? peerCertificate)
    {
        Failure = failure;
        Reason = reason;
        PeerIdentity = peerIdentity;
        PeerCertificate = peerCertificate;
    }

    public bool Succeeded => Failure == AuthFailureReason.None;

    public AuthFailureReason Failure { get; }

    /// <summary>What happened, for logs: names identities, certificates and algorithms, never keys.</summary>
    public string Reason { get; }

    /// <summary>The identity the peer proved (on failure: the one it claimed, when it could be parsed).</summary>
    public IkeIdentity? PeerIdentity { get; }

    /// <summary>The peer's validated end-entity certificate, for certificate authentication.</summary>
    public X509Certificate2? PeerCertificate { get; }

    /// <summary>The notify to answer a failure with: AUTHENTICATION_FAILED (RFC 7296 2.21.2). Null on success.</summary>
    public NotifyType? ErrorNotify => Succeeded ? null : NotifyType.AuthenticationFailed;

    public static AuthResult Success(IkeIdentity? peerIdentity, X509Certificate2? peerCertificate, string reason) =>
        new(AuthFailureReason.None, reason, peerIdentity, peerCertificate);

    public static AuthResult Fail(AuthFailureReason failure, string reason, IkeIdentity? peerIdentity = null, X509Certificate2? peerCertificate = null)
    {
        if (failure == AuthFailureReason.None)
        {
            throw new ArgumentException("a failure needs a reason other than None", nameof(failure));
        }

        return new AuthResult(failure, reason, peerIdentity, peerCertificate);
    }

    public override string ToString() => Succeeded ? $"authenticated: {Reason}" : $"authentication failed ({Failure}): {Reason}";
}
