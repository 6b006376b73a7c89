using System.Net;
using CsCheck;
using KeyProxy.Wire.Access;

namespace KeyProxy.Wire.Tests;

/// <summary>HKDF key schedule and the HMAC proofs of attach, accept and detach.</summary>
public class KeyScheduleTests
{
    [Fact]
    public void HkdfRfc5869TestCase1()
    {
        var okm = new byte[42];
        SubscriberKeys.Hkdf(Hex.Parse("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"), Hex.Parse("000102030405060708090a0b0c"),
            Hex.Parse("f0f1f2f3f4f5f6f7f8f9"), okm);
        Assert.Equal("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865", Hex.Of(okm));
    }

    [Fact]
    public void KeysFollowTheDocumentedConstruction()
    {
        var attach = new byte[32];
        SubscriberKeys.Hkdf(Examples.Secret, "KeyProxy v1"u8, "attach key"u8, attach);
        Assert.Equal(attach, SubscriberKeys.DeriveAttachKey(Examples.Secret));

        // salt = handset nonce || edge nonce; info = "delivery key" || type || length || identity
        var delivery = new byte[32];
        SubscriberKeys.Hkdf(Examples.Secret, Hex.Parse("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"),
            [.. "delivery key"u8, 1, 22, .. "alice@keyproxy.example"u8], delivery);
        Assert.Equal(delivery, Examples.DeliveryKey);
    }

    [Fact]
    public void DeliveryKeyIsFreshPerAttachment()
    {
        var a = SubscriberKeys.DeriveDeliveryKey(Examples.Secret, Examples.HandsetNonce, Examples.EdgeNonce, Examples.Identity);
        var b = SubscriberKeys.DeriveDeliveryKey(Examples.Secret, Examples.HandsetNonce, new Nonce16(1), Examples.Identity);
        var c = SubscriberKeys.DeriveDeliveryKey(Examples.Secret, Examples.HandsetNonce, Examples.EdgeNonce, Examples.Identity with { Type = IdentityType.Msisdn });
        Assert.NotEqual(a, b);
        Assert.NotEqual(a, c);
        Assert.NotEqual(a, SubscriberKeys.DeriveAttachKey(Examples.Secret));
    }

    [Fact]
    public void ShortSecretIsRefused()
    {
        Assert.Throws<ArgumentException>(() => SubscriberKeys.DeriveAttachKey(new byte[15]));
        Assert.Throws<ArgumentException>(() => SubscriberKeys.DeriveDeliveryKey(new byte[15], default, default, Examples.Identity));
    }

    [Fact]
    public void AttachProofVerifiesOnlyWithTheRightSecretAndInputs()
    {
        Gen.Select(Gen.Byte.Array[16, 64], Gen.Byte.Array[16, 64], WireGen.Identity, WireGen.Nonce, WireGen.Nonce)
            .Where((a, b, _, _, _) => !a.AsSpan().SequenceEqual(b))
            .Sample((secret, wrongSecret, identity, handset, edge) =>
            {
                var key = SubscriberKeys.DeriveAttachKey(secret);
                var proof = AttachProofs.ComputeAttachProof(key, identity, handset, edge);
                Assert.True(AttachProofs.VerifyAttachProof(key, identity, handset, edge, proof));
                Assert.False(AttachProofs.VerifyAttachProof(SubscriberKeys.DeriveAttachKey(wrongSecret), identity, handset, edge, proof));
                Assert.False(AttachProofs.VerifyAttachProof(key, identity, edge, handset, proof));
                Assert.False(AttachProofs.VerifyAttachProof(key, identity with { Value = identity.Value + "x" }, handset, edge, proof));
                Assert.False(AttachProofs.VerifyAttachProof(key, identity, handset, edge, proof.AsSpan(0, 31)));
                var flipped = (byte[])proof.Clone();
                flipped[0] ^= 1;
                Assert.False(AttachProofs.VerifyAttachProof(key, identity, handset, edge, flipped));
            }, iter: 300);
    }

    [Fact]
    public void NetworkAndDetachProofs()
    {
        var key = Examples.AttachKey;
        var wrong = SubscriberKeys.DeriveAttachKey(new byte[16]);
        var address = IPAddress.Parse("2001:db8::2");
        var proof = AttachProofs.ComputeAcceptProof(key, Examples.HandsetNonce, Examples.EdgeNonce, 9, address);
        Assert.True(AttachProofs.VerifyAcceptProof(key, Examples.HandsetNonce, Examples.EdgeNonce, 9, address, proof));
        Assert.False(AttachProofs.VerifyAcceptProof(wrong, Examples.HandsetNonce, Examples.EdgeNonce, 9, address, proof));
        Assert.False(AttachProofs.VerifyAcceptProof(key, Examples.HandsetNonce, Examples.EdgeNonce, 10, address, proof));
        Assert.False(AttachProofs.VerifyAcceptProof(key, Examples.HandsetNonce, Examples.EdgeNonce, 9, IPAddress.Parse("2001:db8::3"), proof));

        var delivery = Examples.DeliveryKey;
        var detach = AttachProofs.ComputeDetachProof(delivery, 9);
        Assert.True(AttachProofs.VerifyDetachProof(delivery, 9, detach));
        Assert.False(AttachProofs.VerifyDetachProof(delivery, 8, detach));
        Assert.False(AttachProofs.VerifyDetachProof(SubscriberKeys.DeriveDeliveryKey(Examples.Secret, default, default, Examples.Identity), 9, detach));
    }

    [Fact]
    public void FullAttachExchange()
    {
        // handset side and network side each hold only what they would hold
        var identity = new SubscriberIdentity(IdentityType.Msisdn, "819012345678");
        var secret = Enumerable.Range(1, 20).Select(i => (byte)i).ToArray();
        var random = new FixedRandom(0x40);

        var request = new AttachRequest(identity, Nonce16.Create(random));
        AccessMessage.TryParse(request.ToArray(), out var atEdge);
        var challenge = new AttachChallenge(((AttachRequest)atEdge!).HandsetNonce, Nonce16.Create(random));

        AccessMessage.TryParse(challenge.ToArray(), out var atHandset);
        var c = (AttachChallenge)atHandset!;
        Assert.Equal(request.HandsetNonce, c.HandsetNonce);
        var handsetAttachKey = SubscriberKeys.DeriveAttachKey(secret);
        var response = new AttachResponse(identity, c.HandsetNonce, c.EdgeNonce,
            AttachProofs.ComputeAttachProof(handsetAttachKey, identity, c.HandsetNonce, c.EdgeNonce));

        AccessMessage.TryParse(response.ToArray(), out atEdge);
        var r = (AttachResponse)atEdge!;
        var networkAttachKey = SubscriberKeys.DeriveAttachKey(secret);
        Assert.True(AttachProofs.VerifyAttachProof(networkAttachKey, r.Identity, r.HandsetNonce, r.EdgeNonce, r.Proof.Span));
        var address = IPAddress.Parse("10.45.0.9");
        var accept = new AttachAccept(address, AttachProofs.ComputeAcceptProof(networkAttachKey, r.HandsetNonce, r.EdgeNonce, 42, address)) { TunnelId = 42 };

        AccessMessage.TryParse(accept.ToArray(), out atHandset);
        var a = (AttachAccept)atHandset!;
        Assert.True(AttachProofs.VerifyAcceptProof(handsetAttachKey, c.HandsetNonce, c.EdgeNonce, a.TunnelId, a.HandsetAddress, a.NetworkProof.Span));

        Assert.Equal(SubscriberKeys.DeriveDeliveryKey(secret, c.HandsetNonce, c.EdgeNonce, identity),
            SubscriberKeys.DeriveDeliveryKey(secret, r.HandsetNonce, r.EdgeNonce, r.Identity));
    }
}
