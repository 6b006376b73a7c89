using System.Numerics;
using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Messages;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Tests.Crypto;

/// <summary>Known answers for every provider: RFC 5903 section 8, RFC 7748 5.2 and 6.1, and MODP group 14 against System.Numerics.</summary>
public sealed class KeyExchangeVectorTests
{
    public static TheoryData<string, DhGroup> ProviderGroups => TestProviders.ProviderGroups();

    // RFC 5903 8.1 (256-bit random ECP group) and 8.2 (384-bit).
    private static readonly Dictionary<DhGroup, (string I, string Gi, string R, string Gr, string Gir)> Rfc5903 = new()
    {
        [DhGroup.Ecp256] = (
            "C88F01F510D9AC3F70A292DAA2316DE544E9AAB8AFE84049C62A9C57862D1433",
            "DAD0B65394221CF9B051E1FECA5787D098DFE637FC90B9EF945D0C3772581180" + "5271A0461CDB8252D61F1C456FA3E59AB1F45B33ACCF5F58389E0577B8990BB3",
            "C6EF9C5D78AE012A011164ACB397CE2088685D8F06BF9BE0B283AB46476BEE53",
            "D12DFB5289C8D4F81208B70270398C342296970A0BCCB74C736FC7554494BF63" + "56FBF3CA366CC23E8157854C13C58D6AAC23F046ADA30F8353E74F33039872AB",
            "D6840F6B42F6EDAFD13116E0E12565202FEF8E9ECE7DCE03812464D04B9442DE"),
        [DhGroup.Ecp384] = (
            "099F3C7034D4A2C699884D73A375A67F7624EF7C6B3C0F160647B67414DCE655E35B538041E649EE3FAEF896783AB194",
            "667842D7D180AC2CDE6F74F37551F55755C7645C20EF73E31634FE72B4C55EE6DE3AC808ACB4BDB4C88732AEE95F41AA" + "9482ED1FC0EEB9CAFC4984625CCFC23F65032149E0E144ADA024181535A0F38EEB9FCFF3C2C947DAE69B4C634573A81C",
            "41CB0779B4BDB85D47846725FBEC3C9430FAB46CC8DC5060855CC9BDA0AA2942E0308312916B8ED2960E4BD55A7448FC",
            "E558DBEF53EECDE3D3FCCFC1AEA08A89A987475D12FD950D83CFA41732BC509D0D1AC43A0336DEF96FDA41D0774A3571" + "DCFBEC7AACF3196472169E838430367F66EEBE3C6E70C416DD5F0C68759DD1FFF83FA40142209DFF5EAAD96DB9E6386C",
            "11187331C279962D93D604243FD592CB9D0A926F422E47187521287E7156C5C4D603135569B9E9D09CF5D4A270F59746"),
    };

    [Theory]
    [MemberData(nameof(ProviderGroups))]
    public void Fixed_keys_give_the_published_shared_secret(string provider, DhGroup group)
    {
        switch (group)
        {
            case DhGroup.Ecp256 or DhGroup.Ecp384:
            {
                var v = Rfc5903[group];
                using var i = TestProviders.FromPrivate(provider, group, Hex.Bytes(v.I), Hex.Bytes(v.Gi));
                using var r = TestProviders.FromPrivate(provider, group, Hex.Bytes(v.R), Hex.Bytes(v.Gr));
                Assert.Equal(v.Gi, Hex.Of(i.PublicKey));
                Assert.Equal(v.Gr, Hex.Of(r.PublicKey));
                // RFC 5903 7 / 9: g^ir is the x-coordinate only.
                Assert.Equal(v.Gir, Hex.Of(i.DeriveSharedSecret(Hex.Bytes(v.Gr))));
                Assert.Equal(v.Gir, Hex.Of(r.DeriveSharedSecret(Hex.Bytes(v.Gi))));
                break;
            }

            case DhGroup.Curve25519:
            {
                // RFC 7748 6.1
                using var alice = TestProviders.FromPrivate(provider, group, Hex.Bytes("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"), []);
                using var bob = TestProviders.FromPrivate(provider, group, Hex.Bytes("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"), []);
                Assert.Equal("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", Convert.ToHexStringLower(alice.PublicKey));
                Assert.Equal("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", Convert.ToHexStringLower(bob.PublicKey));
                const string shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
                Assert.Equal(shared, Convert.ToHexStringLower(alice.DeriveSharedSecret(bob.PublicKey)));
                Assert.Equal(shared, Convert.ToHexStringLower(bob.DeriveSharedSecret(alice.PublicKey)));

                // RFC 7748 5.2: scalar x u-coordinate (the second u has its top bit set, which is masked).
                AssertX25519(provider, "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
                    "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c", "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
                AssertX25519(provider, "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
                    "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493", "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");
                break;
            }

            case DhGroup.Modp2048:
            {
                // Reference: System.Numerics modular exponentiation with g = 2 over the RFC 3526 prime.
                var p = new BigInteger(Hex.Bytes(Modp2048.PrimeHex), isUnsigned: true, isBigEndian: true);
                var x = Hex.Bytes("5f1e3c7a9b8d2e4f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7");
                var y = Hex.Bytes("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde1");
                var gx = Pad(BigInteger.ModPow(2, Big(x), p));
                var gy = Pad(BigInteger.ModPow(2, Big(y), p));
                var gxy = Pad(BigInteger.ModPow(Big(gy), Big(x), p));
                using var a = TestProviders.FromPrivate(provider, group, x, gx);
                using var b = TestProviders.FromPrivate(provider, group, y, gy);
                Assert.Equal(Hex.Of(gx), Hex.Of(a.PublicKey));
                Assert.Equal(Hex.Of(gxy), Hex.Of(a.DeriveSharedSecret(gy)));
                Assert.Equal(Hex.Of(gxy), Hex.Of(b.DeriveSharedSecret(gx)));

                // A shared secret with leading zero bytes stays padded to 256 bytes (RFC 7296 2.14).
                var small = Pad(new BigInteger(3));
                var expected = Pad(BigInteger.ModPow(3, Big(x), p));
                Assert.Equal(Hex.Of(expected), Hex.Of(a.DeriveSharedSecret(small)));

                // Public values and g^ir whose top byte is zero (1 in 256) keep their full length.
                var z = FirstExponent(e => Pad(BigInteger.ModPow(2, Big(e), p))[0] == 0);
                var gz = Pad(BigInteger.ModPow(2, Big(z), p));
                using var c = TestProviders.FromPrivate(provider, group, z, gz);
                Assert.Equal(Hex.Of(gz), Hex.Of(c.PublicKey));
                var w = FirstExponent(e => Pad(BigInteger.ModPow(Big(gx), Big(e), p))[0] == 0);
                var gw = Pad(BigInteger.ModPow(2, Big(w), p));
                var gxw = Pad(BigInteger.ModPow(Big(gx), Big(w), p));
                using var d = TestProviders.FromPrivate(provider, group, w, gw);
                Assert.Equal(Hex.Of(gxw), Hex.Of(d.DeriveSharedSecret(gx)));
                Assert.Equal(Hex.Of(gxw), Hex.Of(a.DeriveSharedSecret(gw)));
                break;
            }
        }
    }

    [Fact]
    public void Default_provider_choices_are_as_documented()
    {
        var d = DefaultKeyExchangeProvider.Instance;
        var expectOpenSsl = OpenSslKeyExchangeProvider.IsAvailable ? "openssl" : "bouncycastle";
        Assert.Equal(expectOpenSsl, d.ProviderFor(DhGroup.Curve25519).Name);
        Assert.Equal(expectOpenSsl, d.ProviderFor(DhGroup.Ecp256).Name);
        Assert.Equal(expectOpenSsl, d.ProviderFor(DhGroup.Modp2048).Name);
        Assert.Equal("bouncycastle", d.ProviderFor(DhGroup.Ecp384).Name);
        Assert.Throws<NotSupportedException>(() => d.Create(DhGroup.None));
    }

    [Fact]
    public void OpenSsl_is_available_on_this_machine()
    {
        // The design relies on libcrypto.so.3 (OpenSSL 3.0) being present; fail loudly if it is not.
        Assert.True(OpenSslKeyExchangeProvider.IsAvailable);
    }

    private static void AssertX25519(string provider, string scalar, string u, string expected)
    {
        using var k = TestProviders.FromPrivate(provider, DhGroup.Curve25519, Hex.Bytes(scalar), []);
        Assert.Equal(expected, Convert.ToHexStringLower(k.DeriveSharedSecret(Hex.Bytes(u))));
    }

    /// <summary>The first 256-bit exponent SHA-256(counter) that satisfies <paramref name="predicate"/>.</summary>
    private static byte[] FirstExponent(Func<byte[], bool> predicate)
    {
        for (var counter = 0; ; counter++)
        {
            var e = System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(counter));
            e[0] |= 0x80;
            if (predicate(e))
            {
                return e;
            }
        }
    }

    private static BigInteger Big(byte[] bytes) => new(bytes, isUnsigned: true, isBigEndian: true);

    private static byte[] Pad(BigInteger value)
    {
        var raw = value.ToByteArray(isUnsigned: true, isBigEndian: true);
        var result = new byte[256];
        raw.CopyTo(result, 256 - raw.Length);
        return result;
    }
}
