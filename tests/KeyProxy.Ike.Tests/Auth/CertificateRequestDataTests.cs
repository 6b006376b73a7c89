using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using KeyProxy.Ike.Auth;
using KeyProxy.Ike.Messages;

namespace KeyProxy.Ike.Tests.Auth;

public class CertificateRequestDataTests
{
    private static readonly TestPki Pki = TestPki.Instance;

    [Fact]
    public void Authority_hash_is_sha1_of_subject_public_key_info()
    {
        foreach (var ca in new[] { Pki.RootCa, Pki.Intermediate, Pki.Rsa2048 })
        {
            var expected = SHA1.HashData(SubjectPublicKeyInfoFromDer(ca.RawData));
            Assert.Equal(expected, CertificateRequestData.ComputeAuthorityHash(ca));
        }
    }

    [Fact]
    public void Payload_concatenates_hashes_of_every_anchor()
    {
        var payload = CertificateRequestData.FromTrustAnchors([Pki.RootCa, Pki.OtherCa, Pki.RootCa]).ToPayload();

        Assert.Equal(CertificateEncoding.X509Signature, payload.Encoding);
        Assert.Equal(
            CertificateRequestData.ComputeAuthorityHash(Pki.RootCa).Concat(CertificateRequestData.ComputeAuthorityHash(Pki.OtherCa)).ToArray(),
            payload.Authorities.ToArray());
    }

    [Fact]
    public void Parses_and_rejects_bad_lengths()
    {
        Assert.True(CertificateRequestData.TryParse(new byte[40], out var two));
        Assert.Single(two.AuthorityHashes); // two identical hashes collapse
        Assert.False(CertificateRequestData.TryParse(new byte[21], out _));

        var merged = CertificateRequestData.FromPayloads([
            CertificateRequestData.FromTrustAnchors([Pki.RootCa]).ToPayload(),
            new CertificateRequestPayload(CertificateEncoding.X509Signature, new byte[7]),
            new CertificateRequestPayload(CertificateEncoding.RawRsaKey, new byte[20]),
            CertificateRequestData.FromTrustAnchors([Pki.Intermediate]).ToPayload(),
        ]);
        Assert.NotNull(merged);
        Assert.True(merged.Names(Pki.RootCa));
        Assert.True(merged.Names(Pki.Intermediate));
        Assert.False(merged.Names(Pki.OtherCa));
        Assert.Null(CertificateRequestData.FromPayloads([]));
    }

    [Fact]
    public void Selects_path_up_to_the_ca_the_peer_trusts()
    {
        var credential = new CertificateCredential(Pki.EcP384, [Pki.RootCa, Pki.Intermediate]);

        Assert.Equal([Pki.EcP384, Pki.Intermediate, Pki.RootCa], credential.CertificationPath);
        Assert.Equal([Pki.EcP384, Pki.Intermediate], CertificateRequestData.FromTrustAnchors([Pki.RootCa]).SelectCertificates(credential));
        Assert.Equal([Pki.EcP384], CertificateRequestData.FromTrustAnchors([Pki.Intermediate]).SelectCertificates(credential));
        Assert.Equal([Pki.EcP384, Pki.Intermediate], CertificateRequestData.FromTrustAnchors([Pki.OtherCa]).SelectCertificates(credential));
        Assert.Equal([Pki.EcP384, Pki.Intermediate], CertificateRequestData.Empty.SelectCertificates(credential));

        Assert.True(CertificateRequestData.FromTrustAnchors([Pki.RootCa]).NamesAnyCaOf(credential));
        Assert.False(CertificateRequestData.FromTrustAnchors([Pki.OtherCa]).NamesAnyCaOf(credential));

        var payloads = CertificateRequestData.FromTrustAnchors([Pki.RootCa]).SelectCertificatePayloads(credential);
        Assert.All(payloads, p => Assert.Equal(CertificateEncoding.X509Signature, p.Encoding));
        Assert.Equal(Pki.EcP384.RawData, payloads[0].Data.ToArray());
    }

    [Fact]
    public void Peer_authentication_offers_its_certreq()
    {
        var peer = PeerAuthentication.WithTrustAnchors([Pki.RootCa]);

        Assert.Equal(CertificateRequestData.ComputeAuthorityHash(Pki.RootCa), peer.CertificateRequest!.Encode());
        Assert.Null(PeerAuthentication.WithPreSharedKey([1, 2, 3]).CertificateRequest);
    }

    // Certificate ::= SEQUENCE { tbsCertificate, ... }; TBSCertificate ::= SEQUENCE { [0] version,
    // serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo, ... } (RFC 5280 4.1).
    private static byte[] SubjectPublicKeyInfoFromDer(byte[] certificate)
    {
        var tbs = new AsnReader(certificate, AsnEncodingRules.DER).ReadSequence().ReadSequence();
        if (tbs.PeekTag().HasSameClassAndValue(new Asn1Tag(TagClass.ContextSpecific, 0)))
        {
            tbs.ReadEncodedValue();
        }

        tbs.ReadInteger();
        tbs.ReadSequence();
        tbs.ReadSequence();
        tbs.ReadSequence();
        tbs.ReadSequence();
        return tbs.ReadEncodedValue().ToArray();
    }
}
