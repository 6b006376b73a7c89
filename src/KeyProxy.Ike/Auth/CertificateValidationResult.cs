using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography.X509Certificates;

namespace KeyProxy.Ike.Auth;

/// <summary>The outcome of <see cref="CertificateValidator"/>: the validated end entity, or why it was refused.</summary>
public sealed class CertificateValidationResult
{
    private CertificateValidationResult(AuthFailureReason failure, string reason, X509Certificate2? endEntity, X509Certificate2? trustAnchor)
    {
        Failure = failure;
        Reason = reason;
        EndEntity = endEntity;
        TrustAnchor = trustAnchor;
    }

    [MemberNotNullWhen(true, nameof(EndEntity), nameof(TrustAnchor))]
    public bool IsValid => Failure == AuthFailureReason.None;

    public AuthFailureReason Failure { get; }

    /// <summary>A human explanation naming the certificate concerned.</summary>
    public string Reason { get; }

    /// <summary>The peer's end-entity certificate (also set on most failures, for logging).</summary>
    public X509Certificate2? EndEntity { get; }

    /// <summary>The configured trust anchor the chain ended at; set when valid.</summary>
    public X509Certificate2? TrustAnchor { get; }

    internal static CertificateValidationResult Valid(X509Certificate2 endEntity, X509Certificate2 trustAnchor) =>
        new(AuthFailureReason.None, $"{endEntity.Subject} chains to {trustAnchor.Subject}", endEntity, trustAnchor);

    internal static CertificateValidationResult Invalid(AuthFailureReason failure, string reason, X509Certificate2? endEntity = null) =>
        new(failure, reason, endEntity, null);

    public override string ToString() => IsValid ? $"valid: {Reason}" : $"invalid ({Failure}): {Reason}";
}
