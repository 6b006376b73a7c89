namespace KeyProxy.Ike.Messages;

/// <summary>CERT payload (RFC 7296 3.6).</summary>
public sealed record CertificatePayload(CertificateEncoding Encoding, ReadOnlyMemory<byte> Data) : IkePayload
{
    public override PayloadType Type => PayloadType.Certificate;
}

/// <summary>CERTREQ payload (RFC 7296 3.7): concatenated SHA-1 hashes of trusted CAs' public keys.</summary>
public sealed record CertificateRequestPayload(CertificateEncoding Encoding, ReadOnlyMemory<byte> Authorities) : IkePayload
{
    public override PayloadType Type => PayloadType.CertificateRequest;
}
