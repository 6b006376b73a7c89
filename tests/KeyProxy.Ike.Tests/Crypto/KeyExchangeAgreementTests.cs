using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Messages;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Tests.Crypto;

/// <summary>Random key pairs: cross-provider agreement, sizes, concurrency, disposal, invalid peer values.</summary>
public sealed class KeyExchangeAgreementTests
{
    public static TheoryData<string, DhGroup> ProviderGroups => TestProviders.ProviderGroups();

    public static TheoryData<string, string, DhGroup> ProviderPairs => TestProviders.ProviderPairs();

    [Theory]
    [MemberData(nameof(ProviderPairs))]
    public void Providers_agree_with_each_other(string x, string y, DhGroup group)
    {
        for (var i = 0; i < 3; i++)
        {
            using var a = TestProviders.Get(x).Create(group);
            using var b = TestProviders.Get(y).Create(group);
            Assert.Equal(group, a.Group);
            Assert.Equal(DhGroupInfo.PublicKeyLength(group), a.PublicKey.Length);
            Assert.Equal(DhGroupInfo.PublicKeyLength(group), b.PublicKey.Length);
            var ab = a.DeriveSharedSecret(b.PublicKey);
            var ba = b.DeriveSharedSecret(a.PublicKey);
            Assert.Equal(DhGroupInfo.SharedSecretLength(group), ab.Length);
            Assert.Equal(Hex.Of(ab), Hex.Of(ba));
        }
    }

    [Theory]
    [MemberData(nameof(ProviderGroups))]
    public void Key_pairs_are_fresh(string provider, DhGroup group)
    {
        using var a = TestProviders.Get(provider).Create(group);
        using var b = TestProviders.Get(provider).Create(group);
        Assert.NotEqual(Hex.Of(a.PublicKey), Hex.Of(b.PublicKey));
    }

    [Theory]
    [MemberData(nameof(ProviderGroups))]
    public void Concurrent_use_is_safe(string provider, DhGroup group)
    {
        var p = TestProviders.Get(provider);
        using var reference = TestProviders.BouncyCastle.Create(group);
        var iterations = group == DhGroup.Modp2048 || group == DhGroup.Ecp384 ? 24 : 200;
        Parallel.For(0, iterations, new ParallelOptions { MaxDegreeOfParallelism = 8 }, _ =>
        {
            using var k = p.Create(group);
            var mine = k.DeriveSharedSecret(reference.PublicKey);
            var theirs = reference.DeriveSharedSecret(k.PublicKey);
            Assert.Equal(Hex.Of(theirs), Hex.Of(mine));
        });
    }

    [Theory]
    [MemberData(nameof(ProviderGroups))]
    public void Derive_after_dispose_throws(string provider, DhGroup group)
    {
        using var peer = TestProviders.BouncyCastle.Create(group);
        var k = TestProviders.Get(provider).Create(group);
        k.Dispose();
        k.Dispose(); // idempotent
        Assert.ThrowsAny<ObjectDisposedException>(() => k.DeriveSharedSecret(peer.PublicKey));
    }

    [Theory]
    [MemberData(nameof(ProviderGroups))]
    public void Wrong_length_is_rejected(string provider, DhGroup group)
    {
        using var k = TestProviders.Get(provider).Create(group);
        var length = DhGroupInfo.PublicKeyLength(group);
        using var peer = TestProviders.BouncyCastle.Create(group);
        var valid = peer.PublicKey.ToArray();
        foreach (var bad in new[] { [], valid[..^1], [.. valid, 0], new byte[length + 1], new byte[length - 1], [0x04, .. valid] })
        {
            var e = Assert.Throws<InvalidKeyExchangeException>(() => k.DeriveSharedSecret(bad));
            Assert.Equal(group, e.Group);
        }
    }

    public static TheoryData<string, DhGroup, string, string> InvalidValues()
    {
        var prime = Hex.Bytes(Modp2048.PrimeHex);
        var pMinus1 = (byte[])prime.Clone();
        pMinus1[^1]--;
        var pPlus1 = (byte[])prime.Clone();
        // p ends in eight 0xFF bytes: p + 1 = ...AACAA69 followed by 0x00 x 8.
        Array.Clear(pPlus1, 248, 8);
        pPlus1[247]++;
        var one = new byte[256];
        one[^1] = 1;

        // P-256 generator from RFC 5903 8.1 with y changed: not on the curve.
        var offCurve256 = Hex.Bytes("DAD0B65394221CF9B051E1FECA5787D098DFE637FC90B9EF945D0C3772581180" + "5271A0461CDB8252D61F1C456FA3E59AB1F45B33ACCF5F58389E0577B8990BB4");
        var offCurve384 = Hex.Bytes("667842D7D180AC2CDE6F74F37551F55755C7645C20EF73E31634FE72B4C55EE6DE3AC808ACB4BDB4C88732AEE95F41AA" + "9482ED1FC0EEB9CAFC4984625CCFC23F65032149E0E144ADA024181535A0F38EEB9FCFF3C2C947DAE69B4C634573A81D");
        // x = p (out of range for the field) with a y taken from a valid point.
        var xIsP256 = Hex.Bytes("FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF" + "5271A0461CDB8252D61F1C456FA3E59AB1F45B33ACCF5F58389E0577B8990BB3");

        var cases = new (DhGroup Group, string Name, byte[] Value)[]
        {
            (DhGroup.Modp2048, "zero", new byte[256]),
            (DhGroup.Modp2048, "one", one),
            (DhGroup.Modp2048, "p-1", pMinus1),
            (DhGroup.Modp2048, "p", prime),
            (DhGroup.Modp2048, "p+1", pPlus1),
            (DhGroup.Modp2048, "all ones", Enumerable.Repeat((byte)0xFF, 256).ToArray()),
            (DhGroup.Ecp256, "zero", new byte[64]),
            (DhGroup.Ecp256, "off curve", offCurve256),
            (DhGroup.Ecp256, "x = p", xIsP256),
            (DhGroup.Ecp256, "all ones", Enumerable.Repeat((byte)0xFF, 64).ToArray()),
            (DhGroup.Ecp384, "zero", new byte[96]),
            (DhGroup.Ecp384, "off curve", offCurve384),
            // RFC 7748 6.1 / RFC 8031 2.3: small-order u-coordinates give an all-zero shared secret.
            (DhGroup.Curve25519, "u = 0", new byte[32]),
            (DhGroup.Curve25519, "u = 1", [1, .. new byte[31]]),
            (DhGroup.Curve25519, "u = p-1", Hex.Bytes("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")),
            (DhGroup.Curve25519, "order 8", Hex.Bytes("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")),
        };

        var data = new TheoryData<string, DhGroup, string, string>();
        foreach (var provider in TestProviders.All)
        {
            foreach (var (group, name, value) in cases.Where(c => provider.Supports(c.Group)))
            {
                data.Add(provider.Name, group, name, Hex.Of(value));
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(InvalidValues))]
    public void Invalid_peer_values_are_rejected(string provider, DhGroup group, string what, string value)
    {
        using var k = TestProviders.Get(provider).Create(group);
        var e = Assert.Throws<InvalidKeyExchangeException>(() => k.DeriveSharedSecret(Hex.Bytes(value)));
        Assert.Equal(group, e.Group);
        Assert.False(string.IsNullOrEmpty(what));
    }
}
