using System.Net;
using System.Security.Cryptography.X509Certificates;
using KeyProxy.Ike.Auth;
using KeyProxy.Ike.Messages;

namespace KeyProxy.Ike.Tests.Auth;

public class CertificateValidatorTests
{
    private static readonly TestPki Pki = TestPki.Instance;

    [Fact]
    public void Valid_direct_chain()
    {
        var result = new CertificateValidator([Pki.RootCa]).Validate(Payloads(Pki.EcP256), IkeIdentity.Fqdn("peer256.keyproxy.test"), TestPki.Now);

        Assert.True(result.IsValid, result.ToString());
        Assert.Equal(Pki.EcP256.RawData, result.EndEntity.RawData);
        Assert.Same(Pki.RootCa, result.TrustAnchor);
    }

    [Fact]
    public void Valid_chain_through_intermediate_from_cert_payloads()
    {
        var result = new CertificateValidator([Pki.RootCa]).Validate(Payloads(Pki.EcP384, Pki.Intermediate), IkeIdentity.Fqdn("peer384.keyproxy.test"), TestPki.Now);

        Assert.True(result.IsValid, result.ToString());
    }

    [Fact]
    public void Missing_intermediate_is_untrusted()
    {
        var result = new CertificateValidator([Pki.RootCa]).Validate(Payloads(Pki.EcP384), null, TestPki.Now);

        Assert.Equal(AuthFailureReason.UntrustedCertificate, result.Failure);
        Assert.Contains("peer384", result.Reason);
    }

    [Fact]
    public void Wrong_ca_is_untrusted_even_if_peer_sends_its_own_root()
    {
        var validator = new CertificateValidator([Pki.OtherCa]);

        Assert.Equal(AuthFailureReason.UntrustedCertificate, validator.Validate(Payloads(Pki.EcP256), null, TestPki.Now).Failure);
        Assert.Equal(AuthFailureReason.UntrustedCertificate, validator.Validate(Payloads(Pki.EcP256, Pki.RootCa), null, TestPki.Now).Failure);
    }

    [Fact]
    public void Validity_period_uses_injected_time()
    {
        var validator = new CertificateValidator([Pki.RootCa]);

        Assert.Equal(AuthFailureReason.CertificateExpired, validator.Validate(Payloads(Pki.EcP256), null, TestPki.EeNotAfter.AddSeconds(1)).Failure);
        Assert.Equal(AuthFailureReason.CertificateNotYetValid, validator.Validate(Payloads(Pki.EcP256), null, TestPki.EeNotBefore.AddSeconds(-1)).Failure);
        Assert.True(validator.Validate(Payloads(Pki.EcP256), null, TestPki.EeNotAfter.AddSeconds(-1)).IsValid);
    }

    [Fact]
    public void Expired_ca_is_reported_by_name()
    {
        // The end entity is within its own dates; its issuer expired before the validation time.
        var validator = new CertificateValidator([Pki.ShortLivedCa]);

        var result = validator.Validate(Payloads(Pki.UnderShortLivedCa), null, TestPki.Now);

        Assert.Equal(AuthFailureReason.CertificateExpired, result.Failure);
        Assert.Contains("CA certificate CN=Short-lived CA", result.Reason);
        Assert.True(validator.Validate(Payloads(Pki.UnderShortLivedCa), null, TestPki.ShortCaNotAfter.AddDays(-1)).IsValid);
    }

    [Theory]
    [InlineData("dn", "CN=peer256, O=KeyProxy", true)]
    [InlineData("dn", "CN=peer256, O=Elsewhere", false)]
    [InlineData("fqdn", "PEER256.keyproxy.test", true)]
    [InlineData("fqdn", "peer384.keyproxy.test", false)]
    [InlineData("email", "peer256@keyproxy.test", true)]
    [InlineData("email", "root@keyproxy.test", false)]
    [InlineData("ip", "192.0.2.10", true)]
    [InlineData("ip", "192.0.2.11", false)]
    public void Identity_must_be_in_the_certificate(string type, string value, bool matches)
    {
        var id = type switch
        {
            "dn" => IkeIdentity.DistinguishedName(value),
            "fqdn" => IkeIdentity.Fqdn(value),
            "email" => IkeIdentity.Rfc822(value),
            _ => IkeIdentity.FromIPAddress(IPAddress.Parse(value)),
        };

        var result = new CertificateValidator([Pki.RootCa]).Validate(Payloads(Pki.EcP256), id, TestPki.Now);

        Assert.Equal(matches, result.IsValid);
        if (!matches)
        {
            Assert.Equal(AuthFailureReason.CertificateIdentityMismatch, result.Failure);
        }
    }

    [Fact]
    public void Ipv6_and_key_id_identities_match()
    {
        var cert = TestPki.PublicOnly(Pki.EcP384);
        var ski = cert.Extensions.OfType<X509SubjectKeyIdentifierExtension>().Single().SubjectKeyIdentifierBytes.Span;

        Assert.True(CertificateValidator.IdentityMatches(IkeIdentity.FromIPAddress(IPAddress.Parse("2001:db8::384")), cert));
        Assert.True(CertificateValidator.IdentityMatches(IkeIdentity.KeyId(ski), cert));
        Assert.False(CertificateValidator.IdentityMatches(IkeIdentity.KeyId([1, 2, 3]), cert));
    }

    [Fact]
    public void Key_usage_without_digital_signature_is_refused()
    {
        var result = new CertificateValidator([Pki.RootCa]).Validate(Payloads(Pki.EncipherOnly), null, TestPki.Now);

        Assert.Equal(AuthFailureReason.CertificateKeyUsage, result.Failure);
    }

    [Fact]
    public void Malformed_and_missing_payloads_are_results_not_exceptions()
    {
        var validator = new CertificateValidator([Pki.RootCa]);

        Assert.Equal(AuthFailureReason.MissingCertificate, validator.Validate([], null, TestPki.Now).Failure);
        Assert.Equal(AuthFailureReason.MalformedCertificate,
            validator.Validate([new CertificatePayload(CertificateEncoding.X509Signature, new byte[] { 0x30, 0x03, 1, 2, 3 })], null, TestPki.Now).Failure);
        Assert.Equal(AuthFailureReason.UnsupportedCertificateEncoding,
            validator.Validate([new CertificatePayload(CertificateEncoding.HashAndUrlX509, new byte[20])], null, TestPki.Now).Failure);
        Assert.Equal(AuthFailureReason.MalformedCertificate,
            validator.Validate([.. Payloads(Pki.EcP256), new CertificatePayload(CertificateEncoding.X509Signature, new byte[] { 1 })], null, TestPki.Now).Failure);
        var tooMany = Payloads(Pki.EcP256).Concat(Enumerable.Repeat(CertificateRequestData.ToCertificatePayload(Pki.Intermediate), CertificateValidator.MaxIntermediates + 1)).ToArray();
        Assert.Equal(AuthFailureReason.MalformedCertificate, validator.Validate(tooMany, null, TestPki.Now).Failure);
    }

    [Fact]
    public void Non_x509_cert_payloads_after_the_first_are_ignored()
    {
        var payloads = new[] { CertificateRequestData.ToCertificatePayload(Pki.EcP256), new CertificatePayload(CertificateEncoding.RawRsaKey, new byte[] { 1, 2 }) };

        Assert.True(new CertificateValidator([Pki.RootCa]).Validate(payloads, null, TestPki.Now).IsValid);
    }

    private static CertificatePayload[] Payloads(params X509Certificate2[] certificates) =>
        certificates.Select(CertificateRequestData.ToCertificatePayload).ToArray();
}
