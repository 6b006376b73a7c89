namespace KeyProxy.Abstractions;

/// <summary>
/// The certificate (PEM) and its private key (PEM, unencrypted PKCS#8, or PKCS#1 / SEC1) the proxy signs IKE_AUTH
/// with on the subscriber's behalf (RFC 7427). The private key never appears in <see cref="ToString"/>.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record IkeCertificateCredential(
    [property: Id(0)] string CertificatePem,
    [property: Id(1), StoredSecret] string PrivateKeyPem)
{
    public override string ToString() => $"IkeCertificateCredential {{ CertificatePem = ({CertificatePem?.Length ?? 0} chars), PrivateKeyPem = (hidden) }}";
}
