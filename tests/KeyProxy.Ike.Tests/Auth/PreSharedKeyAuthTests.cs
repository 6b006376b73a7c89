using System.Security.Cryptography;
using System.Text;
using KeyProxy.Ike.Auth;
using KeyProxy.Ike.Messages;

namespace KeyProxy.Ike.Tests.Auth;

public class PreSharedKeyAuthTests
{
    // Fixed inputs; the expected values were computed once with Python's hmac module (an
    // implementation independent of .NET) from the RFC 7296 2.15 formulas.
    private static readonly byte[] RealMessage = Enumerable.Range(0, 64).Select(i => (byte)i).ToArray();
    private static readonly byte[] PeerNonce = Enumerable.Range(0, 32).Select(i => (byte)(0xA0 + i)).ToArray();
    private static readonly byte[] SkPi = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
    private static readonly byte[] Secret = Encoding.ASCII.GetBytes("correct horse battery staple");
    private static readonly IdentificationPayload InitiatorId = IkeIdentity.Fqdn("initiator.keyproxy.test").ToPayload(isInitiator: true);

    private const string ExpectedMacedIdHex = "53bfcfa290565f4a90d359f7db6d6337644531e1157d91972b56e2f5560362ad";
    private const string ExpectedAuthHex = "7f492dce78cf920807329010a5238147cdce9e937ab4526e5a6b4ef89fcd5de0";
    private const string ExpectedAuthSha384Hex = "b7a3d5c60dcd997af0f334bc9fb34ba1ac49734691b678820c24275e1a3a82ad8d7b2575c9a21b2649f966fa0d55f991";

    [Fact]
    public void MacedId_matches_first_principles()
    {
        var body = new byte[] { 2, 0, 0, 0 }.Concat(Encoding.ASCII.GetBytes("initiator.keyproxy.test")).ToArray();
        var expected = HMACSHA256.HashData(SkPi, body);

        var maced = SignedOctets.ComputeMacedId(HmacTestPrf.Sha256, SkPi, InitiatorId);

        Assert.Equal(expected, maced);
        Assert.Equal(ExpectedMacedIdHex, Convert.ToHexStringLower(maced));
    }

    [Fact]
    public void SignedOctets_are_message_then_nonce_then_maced_id()
    {
        var octets = SignedOctets.Compute(RealMessage, PeerNonce, HmacTestPrf.Sha256, SkPi, InitiatorId);

        Assert.Equal(64 + 32 + 32, octets.Length);
        Assert.Equal(RealMessage, octets[..64]);
        Assert.Equal(PeerNonce, octets[64..96]);
        Assert.Equal(ExpectedMacedIdHex, Convert.ToHexStringLower(octets[96..]));
    }

    [Fact]
    public void Psk_auth_matches_first_principles_and_fixed_vector()
    {
        var octets = SignedOctets.Compute(RealMessage, PeerNonce, HmacTestPrf.Sha256, SkPi, InitiatorId);
        var firstPrinciples = HMACSHA256.HashData(HMACSHA256.HashData(Secret, Encoding.ASCII.GetBytes("Key Pad for IKEv2")), octets);

        using var psk = new PreSharedKeyCredential(Secret);
        var auth = IkeAuthenticator.CreateAuthentication(psk, octets, HmacTestPrf.Sha256);

        Assert.Equal(AuthMethod.SharedKeyMessageIntegrityCode, auth.Method);
        Assert.Equal(firstPrinciples, auth.Data.ToArray());
        Assert.Equal(ExpectedAuthHex, Convert.ToHexStringLower(auth.Data.Span));
    }

    [Fact]
    public void Psk_auth_with_prf_sha384_matches_fixed_vector()
    {
        var octets = SignedOctets.Compute(RealMessage, PeerNonce, HmacTestPrf.Sha384, SkPi, InitiatorId);
        using var psk = new PreSharedKeyCredential(Secret);

        var auth = IkeAuthenticator.ComputePreSharedKeyAuth(psk, octets, HmacTestPrf.Sha384);

        Assert.Equal(ExpectedAuthSha384Hex, Convert.ToHexStringLower(auth));
    }

    [Fact]
    public void VerifyPeer_accepts_correct_psk_and_reports_identity()
    {
        var (octets, auth) = InitiatorAuth(Secret);
        var peer = PeerAuthentication.WithPreSharedKey(Secret, IkeIdentity.Fqdn("INITIATOR.keyproxy.test"));

        var result = IkeAuthenticator.VerifyPeer(peer, InitiatorId, auth, [], octets, HmacTestPrf.Sha256, TestPki.Now);

        Assert.True(result.Succeeded, result.ToString());
        Assert.Equal(IkeIdentity.Fqdn("initiator.keyproxy.test"), result.PeerIdentity);
        Assert.Null(result.ErrorNotify);
    }

    [Fact]
    public void VerifyPeer_rejects_wrong_psk()
    {
        var (octets, auth) = InitiatorAuth(Encoding.ASCII.GetBytes("wrong secret"));
        var peer = PeerAuthentication.WithPreSharedKey(Secret);

        var result = IkeAuthenticator.VerifyPeer(peer, InitiatorId, auth, [], octets, HmacTestPrf.Sha256, TestPki.Now);

        Assert.Equal(AuthFailureReason.PreSharedKeyMismatch, result.Failure);
        Assert.Equal(NotifyType.AuthenticationFailed, result.ErrorNotify);
    }

    [Fact]
    public void VerifyPeer_rejects_tampered_signed_octets_and_truncated_auth()
    {
        var (octets, auth) = InitiatorAuth(Secret);
        var peer = PeerAuthentication.WithPreSharedKey(Secret);
        var tampered = octets.ToArray();
        tampered[10] ^= 1;

        Assert.Equal(AuthFailureReason.PreSharedKeyMismatch,
            IkeAuthenticator.VerifyPeer(peer, InitiatorId, auth, [], tampered, HmacTestPrf.Sha256, TestPki.Now).Failure);
        var truncated = auth with { Data = auth.Data[..16] };
        Assert.Equal(AuthFailureReason.PreSharedKeyMismatch,
            IkeAuthenticator.VerifyPeer(peer, InitiatorId, truncated, [], octets, HmacTestPrf.Sha256, TestPki.Now).Failure);
    }

    [Fact]
    public void VerifyPeer_rejects_unexpected_identity_before_checking_auth()
    {
        var (octets, auth) = InitiatorAuth(Secret);
        var peer = PeerAuthentication.WithPreSharedKey(Secret, IkeIdentity.Fqdn("someone-else.keyproxy.test"));

        var result = IkeAuthenticator.VerifyPeer(peer, InitiatorId, auth, [], octets, HmacTestPrf.Sha256, TestPki.Now);

        Assert.Equal(AuthFailureReason.IdentityMismatch, result.Failure);
        Assert.Contains("initiator.keyproxy.test", result.Reason);
        Assert.Contains("someone-else.keyproxy.test", result.Reason);
    }

    [Fact]
    public void VerifyPeer_with_psk_rejects_signature_method()
    {
        var (octets, auth) = InitiatorAuth(Secret);
        var peer = PeerAuthentication.WithPreSharedKey(Secret);

        var result = IkeAuthenticator.VerifyPeer(peer, InitiatorId, auth with { Method = AuthMethod.DigitalSignature }, [], octets, HmacTestPrf.Sha256, TestPki.Now);

        Assert.Equal(AuthFailureReason.UnexpectedAuthMethod, result.Failure);
    }

    [Fact]
    public void VerifyPeer_rejects_malformed_id()
    {
        var (octets, auth) = InitiatorAuth(Secret);
        var badId = new IdentificationPayload(true, IdType.Ipv4Address, new byte[] { 10, 0, 0 });

        var result = IkeAuthenticator.VerifyPeer(PeerAuthentication.WithPreSharedKey(Secret), badId, auth, [], octets, HmacTestPrf.Sha256, TestPki.Now);

        Assert.Equal(AuthFailureReason.MalformedIdentity, result.Failure);
    }

    [Fact]
    public void Psk_credential_never_prints_its_key()
    {
        using var psk = PreSharedKeyCredential.FromUtf8("correct horse battery staple");
        var peer = PeerAuthentication.WithPreSharedKey(psk);

        foreach (var text in new[] { psk.ToString(), peer.ToString() })
        {
            Assert.DoesNotContain("horse", text);
            Assert.DoesNotContain(Convert.ToHexString(Secret), text, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public void Disposed_psk_credential_is_unusable()
    {
        var psk = new PreSharedKeyCredential(Secret);
        psk.Dispose();

        Assert.Throws<ObjectDisposedException>(() => IkeAuthenticator.ComputePreSharedKeyAuth(psk, RealMessage, HmacTestPrf.Sha256));
    }

    private static (byte[] Octets, AuthenticationPayload Auth) InitiatorAuth(byte[] secret)
    {
        var octets = SignedOctets.Compute(RealMessage, PeerNonce, HmacTestPrf.Sha256, SkPi, InitiatorId);
        using var psk = new PreSharedKeyCredential(secret);
        return (octets, IkeAuthenticator.CreateAuthentication(psk, octets, HmacTestPrf.Sha256));
    }
}
