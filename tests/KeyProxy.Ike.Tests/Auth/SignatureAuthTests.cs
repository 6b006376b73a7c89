using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using KeyProxy.Ike.Auth;
using KeyProxy.Ike.Messages;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Security;

namespace KeyProxy.Ike.Tests.Auth;

public class SignatureAuthTests
{
    private static readonly TestPki Pki = TestPki.Instance;
    private static readonly byte[] RealMessage = RandomNumberGenerator.GetBytes(300);
    private static readonly byte[] Nonce = RandomNumberGenerator.GetBytes(32);
    private static readonly byte[] SkPr = RandomNumberGenerator.GetBytes(32);

    public static TheoryData<string, string, string> RoundTrips => new()
    {
        // certificate, peer's SIGNATURE_HASH_ALGORITHMS, expected AlgorithmIdentifier
        { "p256", "2,3,4", "ecdsa-with-SHA256" },
        { "p384", "2,3,4", "ecdsa-with-SHA384" },
        { "p384", "2", "ecdsa-with-SHA256" },
        { "p256", "", "ecdsa-with-SHA256" },
        { "p256", "4,1", "ecdsa-with-SHA512" },
        { "rsa", "2,3,4", "RSASSA-PSS(SHA256, MGF1-SHA256, salt 32)" },
        { "rsa", "3", "RSASSA-PSS(SHA384, MGF1-SHA384, salt 48)" },
        { "rsa-pkcs1", "2,3,4", "sha256WithRSAEncryption" },
        { "rsa-pkcs1", "4", "sha512WithRSAEncryption" },
    };

    [Theory]
    [MemberData(nameof(RoundTrips))]
    public void Sign_then_verify_round_trip(string which, string peerHashes, string expectedAlgorithm)
    {
        var (credential, id) = Credential(which);
        var idPayload = id.ToPayload(isInitiator: false);
        var octets = SignedOctets.Compute(RealMessage, Nonce, HmacTestPrf.Sha256, SkPr, idPayload);
        var hashes = peerHashes.Length == 0 ? null : peerHashes.Split(',').Select(h => (SignatureHashAlgorithm)ushort.Parse(h)).ToArray();

        var auth = IkeAuthenticator.CreateAuthentication(credential, octets, HmacTestPrf.Sha256, hashes);

        Assert.Equal(AuthMethod.DigitalSignature, auth.Method);
        var data = auth.Data.Span;
        Assert.True(SignatureAlgorithmIdentifier.TryDecode(data.Slice(1, data[0]), out var algorithm, out _));
        Assert.Equal(expectedAlgorithm, algorithm!.ToString());
        if (algorithm.Kind == SignatureKind.Ecdsa)
        {
            AssertDerEcdsaSigValue(data[(1 + data[0])..].ToArray());
        }

        var peer = PeerAuthentication.WithTrustAnchors([PublicOnlyRoot()], id);
        var result = IkeAuthenticator.VerifyPeer(peer, idPayload, auth, CertPayloads(credential), octets, HmacTestPrf.Sha256, TestPki.Now);
        Assert.True(result.Succeeded, result.ToString());
        Assert.Equal(id, result.PeerIdentity);
        Assert.Equal(credential.Certificate.RawData, result.PeerCertificate!.RawData);
        Assert.Contains(expectedAlgorithm, result.Reason);
    }

    [Theory]
    [InlineData("p256")]
    [InlineData("p384")]
    [InlineData("rsa")]
    public void Tampered_signed_octets_fail(string which)
    {
        var (credential, id) = Credential(which);
        var idPayload = id.ToPayload(isInitiator: true);
        var octets = SignedOctets.Compute(RealMessage, Nonce, HmacTestPrf.Sha256, SkPr, idPayload);
        var auth = IkeAuthenticator.CreateAuthentication(credential, octets, HmacTestPrf.Sha256);
        var tampered = octets.ToArray();
        tampered[^1] ^= 0x80;

        var result = IkeAuthenticator.VerifyPeer(
            PeerAuthentication.WithTrustAnchors([Pki.RootCa]), idPayload, auth, CertPayloads(credential), tampered, HmacTestPrf.Sha256, TestPki.Now);

        Assert.Equal(AuthFailureReason.InvalidSignature, result.Failure);
        Assert.Equal(NotifyType.AuthenticationFailed, result.ErrorNotify);
    }

    [Fact]
    public void Signed_octets_bound_to_the_id_payload()
    {
        var (credential, id) = Credential("p256");
        var octets = SignedOctets.Compute(RealMessage, Nonce, HmacTestPrf.Sha256, SkPr, id.ToPayload(false));
        var auth = IkeAuthenticator.CreateAuthentication(credential, octets, HmacTestPrf.Sha256);

        // The peer recomputes with a different (but certificate-valid) ID: the MACed ID differs.
        var otherId = IkeIdentity.Fqdn("peer256.keyproxy.test").ToPayload(false);
        var otherOctets = SignedOctets.Compute(RealMessage, Nonce, HmacTestPrf.Sha256, SkPr, otherId);
        var result = IkeAuthenticator.VerifyPeer(
            PeerAuthentication.WithTrustAnchors([Pki.RootCa]), otherId, auth, CertPayloads(credential), otherOctets, HmacTestPrf.Sha256, TestPki.Now);

        Assert.Equal(AuthFailureReason.InvalidSignature, result.Failure);
    }

    [Fact]
    public void Wrong_ca_fails()
    {
        var (credential, id) = Credential("p256");
        var idPayload = id.ToPayload(false);
        var octets = SignedOctets.Compute(RealMessage, Nonce, HmacTestPrf.Sha256, SkPr, idPayload);
        var auth = IkeAuthenticator.CreateAuthentication(credential, octets, HmacTestPrf.Sha256);

        var result = IkeAuthenticator.VerifyPeer(
            PeerAuthentication.WithTrustAnchors([Pki.OtherCa]), idPayload, auth, CertPayloads(credential), octets, HmacTestPrf.Sha256, TestPki.Now);

        Assert.Equal(AuthFailureReason.UntrustedCertificate, result.Failure);
    }

    [Fact]
    public void Expired_certificate_fails()
    {
        var (credential, id) = Credential("p256");
        var idPayload = id.ToPayload(false);
        var octets = SignedOctets.Compute(RealMessage, Nonce, HmacTestPrf.Sha256, SkPr, idPayload);
        var auth = IkeAuthenticator.CreateAuthentication(credential, octets, HmacTestPrf.Sha256);

        var result = IkeAuthenticator.VerifyPeer(
            PeerAuthentication.WithTrustAnchors([Pki.RootCa]), idPayload, auth, CertPayloads(credential), octets, HmacTestPrf.Sha256,
            TestPki.EeNotAfter.AddDays(1));

        Assert.Equal(AuthFailureReason.CertificateExpired, result.Failure);
    }

    [Fact]
    public void Id_not_in_certificate_fails()
    {
        var (credential, _) = Credential("p256");
        var idPayload = IkeIdentity.Fqdn("impostor.keyproxy.test").ToPayload(false);
        var octets = SignedOctets.Compute(RealMessage, Nonce, HmacTestPrf.Sha256, SkPr, idPayload);
        var auth = IkeAuthenticator.CreateAuthentication(credential, octets, HmacTestPrf.Sha256);

        var result = IkeAuthenticator.VerifyPeer(
            PeerAuthentication.WithTrustAnchors([Pki.RootCa]), idPayload, auth, CertPayloads(credential), octets, HmacTestPrf.Sha256, TestPki.Now);

        Assert.Equal(AuthFailureReason.CertificateIdentityMismatch, result.Failure);
        Assert.Contains("impostor.keyproxy.test", result.Reason);
    }

    [Fact]
    public void Certificate_peer_rejects_psk_method_and_missing_certificate()
    {
        var (credential, id) = Credential("p256");
        var idPayload = id.ToPayload(false);
        var octets = SignedOctets.Compute(RealMessage, Nonce, HmacTestPrf.Sha256, SkPr, idPayload);
        var auth = IkeAuthenticator.CreateAuthentication(credential, octets, HmacTestPrf.Sha256);
        var peer = PeerAuthentication.WithTrustAnchors([Pki.RootCa]);

        Assert.Equal(AuthFailureReason.UnexpectedAuthMethod, IkeAuthenticator.VerifyPeer(
            peer, idPayload, auth with { Method = AuthMethod.SharedKeyMessageIntegrityCode }, CertPayloads(credential), octets, HmacTestPrf.Sha256, TestPki.Now).Failure);
        Assert.Equal(AuthFailureReason.MissingCertificate, IkeAuthenticator.VerifyPeer(
            peer, idPayload, auth, [], octets, HmacTestPrf.Sha256, TestPki.Now).Failure);
    }

    [Fact]
    public void Key_type_mismatch_and_malformed_auth_data_fail()
    {
        var octets = RandomNumberGenerator.GetBytes(100);
        var ecCert = TestPki.PublicOnly(Pki.EcP256);
        using var rsaKey = Pki.Rsa2048.GetRSAPrivateKey()!;
        var rsaSignature = rsaKey.SignData(octets, HashAlgorithmName.SHA256, RSASignaturePadding.Pss);

        var claimsPss = AuthData(SignatureAlgorithmIdentifier.RsaPssSha256, rsaSignature);
        Assert.Equal(AuthFailureReason.KeyTypeMismatch, IkeAuthenticator.VerifySignature(claimsPss, octets, ecCert).Failure);

        var empty = new AuthenticationPayload(AuthMethod.DigitalSignature, new byte[] { 12 });
        Assert.Equal(AuthFailureReason.MalformedAuthData, IkeAuthenticator.VerifySignature(empty, octets, ecCert).Failure);
        var lengthBeyondData = new AuthenticationPayload(AuthMethod.DigitalSignature, new byte[] { 200, 0x30, 0x00, 1 });
        Assert.Equal(AuthFailureReason.MalformedAuthData, IkeAuthenticator.VerifySignature(lengthBeyondData, octets, ecCert).Failure);
        var ed25519 = new AuthenticationPayload(AuthMethod.DigitalSignature, new byte[] { 7, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 1, 2, 3 });
        Assert.Equal(AuthFailureReason.UnsupportedSignatureAlgorithm, IkeAuthenticator.VerifySignature(ed25519, octets, ecCert).Failure);
    }

    [Fact]
    public void Sha1_under_digital_signature_is_refused()
    {
        var octets = RandomNumberGenerator.GetBytes(100);
        using var key = Pki.EcP256.GetECDsaPrivateKey()!;
        var signature = key.SignData(octets, HashAlgorithmName.SHA1, DSASignatureFormat.Rfc3279DerSequence);

        var result = IkeAuthenticator.VerifySignature(AuthData(SignatureAlgorithmIdentifier.Ecdsa(HashAlgorithmName.SHA1), signature), octets, TestPki.PublicOnly(Pki.EcP256));

        Assert.Equal(AuthFailureReason.SignatureHashNotAccepted, result.Failure);
    }

    [Fact]
    public void Legacy_ecdsa_method_9_verifies_raw_r_s()
    {
        var octets = RandomNumberGenerator.GetBytes(100);
        using var key = Pki.EcP256.GetECDsaPrivateKey()!;
        var raw = key.SignData(octets, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        var auth = new AuthenticationPayload(AuthMethod.EcdsaSha256P256, raw);
        var cert = TestPki.PublicOnly(Pki.EcP256);

        Assert.True(IkeAuthenticator.VerifySignature(auth, octets, cert).Succeeded);
        Assert.Equal(AuthFailureReason.UnexpectedAuthMethod, IkeAuthenticator.VerifySignature(auth, octets, cert, acceptLegacyMethods: false).Failure);
        Assert.Equal(AuthFailureReason.KeyTypeMismatch, IkeAuthenticator.VerifySignature(auth with { Method = AuthMethod.EcdsaSha384P384 }, octets, cert).Failure);
        Assert.Equal(AuthFailureReason.InvalidSignature, IkeAuthenticator.VerifySignature(auth, octets.Reverse().ToArray(), cert).Failure);
    }

    [Fact]
    public void Legacy_rsa_method_1_verifies_pkcs1_sha1()
    {
        var octets = RandomNumberGenerator.GetBytes(100);
        using var key = Pki.Rsa2048.GetRSAPrivateKey()!;
        var auth = new AuthenticationPayload(AuthMethod.RsaDigitalSignature, key.SignData(octets, HashAlgorithmName.SHA1, RSASignaturePadding.Pkcs1));
        var cert = TestPki.PublicOnly(Pki.Rsa2048);

        Assert.True(IkeAuthenticator.VerifySignature(auth, octets, cert).Succeeded);
        Assert.Equal(AuthFailureReason.InvalidSignature, IkeAuthenticator.VerifySignature(auth, octets.Reverse().ToArray(), cert).Failure);
        Assert.Equal(AuthFailureReason.KeyTypeMismatch, IkeAuthenticator.VerifySignature(auth, octets, TestPki.PublicOnly(Pki.EcP256)).Failure);
    }

    [Fact]
    public void Pss_with_non_default_salt_verifies()
    {
        var octets = RandomNumberGenerator.GetBytes(100);
        using var rsa = Pki.Rsa2048.GetRSAPrivateKey()!;
        var keyPair = DotNetUtilities.GetRsaKeyPair(rsa);
        var signer = new PssSigner(new RsaEngine(), new Sha256Digest(), new Sha256Digest(), 20);
        signer.Init(true, keyPair.Private);
        signer.BlockUpdate(octets, 0, octets.Length);
        var signature = signer.GenerateSignature();
        var algorithm = SignatureAlgorithmIdentifier.RsaPss(HashAlgorithmName.SHA256, saltLength: 20);
        var cert = TestPki.PublicOnly(Pki.Rsa2048);

        Assert.True(IkeAuthenticator.VerifySignature(AuthData(algorithm, signature), octets, cert).Succeeded);
        Assert.Equal(AuthFailureReason.InvalidSignature,
            IkeAuthenticator.VerifySignature(AuthData(SignatureAlgorithmIdentifier.RsaPssSha256, signature), octets, cert).Failure);
    }

    [Fact]
    public void No_common_hash_refuses_to_sign()
    {
        var (credential, _) = Credential("p256");

        var error = Assert.Throws<InvalidOperationException>(() => IkeAuthenticator.CreateAuthentication(
            credential, RealMessage, HmacTestPrf.Sha256, [SignatureHashAlgorithm.Sha1, SignatureHashAlgorithm.Identity]));
        Assert.Contains("SIGNATURE_HASH_ALGORITHMS", error.Message);
    }

    [Fact]
    public void Credential_requires_private_key_and_strong_rsa()
    {
        Assert.Throws<ArgumentException>(() => new CertificateCredential(TestPki.PublicOnly(Pki.EcP256)));
        using var weak = RSA.Create(1024);
        using var weakCert = new CertificateRequest("CN=weak", weak, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(TestPki.CaNotBefore, TestPki.CaNotAfter);
        Assert.Throws<ArgumentException>(() => new CertificateCredential(weakCert));
        Assert.DoesNotContain("PRIVATE", new CertificateCredential(Pki.EcP256).ToString(), StringComparison.OrdinalIgnoreCase);
    }

    internal static (CertificateCredential Credential, IkeIdentity Id) Credential(string which) => which switch
    {
        "p256" => (new CertificateCredential(Pki.EcP256), IkeIdentity.DistinguishedName("CN=peer256, O=KeyProxy")),
        "p384" => (new CertificateCredential(Pki.EcP384, [Pki.Intermediate, Pki.RootCa]), IkeIdentity.Fqdn("peer384.keyproxy.test")),
        "rsa" => (new CertificateCredential(Pki.Rsa2048), IkeIdentity.Fqdn("rsa.keyproxy.test")),
        _ => (new CertificateCredential(Pki.Rsa2048) { UseRsaPss = false }, IkeIdentity.FromCertificateSubject(Pki.Rsa2048)),
    };

    private static IReadOnlyList<CertificatePayload> CertPayloads(CertificateCredential credential) =>
        CertificateRequestData.FromTrustAnchors([Pki.RootCa]).SelectCertificatePayloads(credential);

    private static X509Certificate2 PublicOnlyRoot() => TestPki.PublicOnly(Pki.RootCa);

    private static AuthenticationPayload AuthData(SignatureAlgorithmIdentifier algorithm, byte[] signature)
    {
        var der = algorithm.Encode();
        return new AuthenticationPayload(AuthMethod.DigitalSignature, new[] { (byte)der.Length }.Concat(der).Concat(signature).ToArray());
    }

    private static void AssertDerEcdsaSigValue(byte[] signature)
    {
        // RFC 7427 3 / RFC 3279 2.2.3: Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }.
        var reader = new AsnReader(signature, AsnEncodingRules.DER);
        var seq = reader.ReadSequence();
        Assert.False(reader.HasData);
        seq.ReadInteger();
        seq.ReadInteger();
        Assert.False(seq.HasData);
    }
}
