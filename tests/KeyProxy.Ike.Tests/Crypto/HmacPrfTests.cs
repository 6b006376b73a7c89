using System.Text;
using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Messages;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Tests.Crypto;

/// <summary>RFC 4231 HMAC-SHA2 vectors for the PRFs (RFC 4868 2.1.2) and their truncation for integrity (RFC 4868 2.1.1).</summary>
public sealed class HmacPrfTests
{
    private static readonly byte[] Key1 = Enumerable.Repeat((byte)0x0b, 20).ToArray();
    private static readonly byte[] Data1 = Encoding.ASCII.GetBytes("Hi There");
    private static readonly byte[] Key2 = Encoding.ASCII.GetBytes("Jefe");
    private static readonly byte[] Data2 = Encoding.ASCII.GetBytes("what do ya want for nothing?");
    private static readonly byte[] Key6 = Enumerable.Repeat((byte)0xaa, 131).ToArray();
    private static readonly byte[] Data6 = Encoding.ASCII.GetBytes("Test Using Larger Than Block-Size Key - Hash Key First");

    public static TheoryData<PrfAlgorithm, int, string> Rfc4231 => new()
    {
        { PrfAlgorithm.HmacSha2_256, 1, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
        { PrfAlgorithm.HmacSha2_384, 1, "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6" },
        { PrfAlgorithm.HmacSha2_512, 1, "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854" },
        { PrfAlgorithm.HmacSha2_256, 2, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
        { PrfAlgorithm.HmacSha2_384, 2, "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649" },
        { PrfAlgorithm.HmacSha2_512, 2, "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737" },
        { PrfAlgorithm.HmacSha2_256, 6, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
    };

    [Theory]
    [MemberData(nameof(Rfc4231))]
    public void Prf_matches_RFC_4231(PrfAlgorithm algorithm, int testCase, string expected)
    {
        var (key, data) = Case(testCase);
        var prf = PrfFactory.Create(algorithm);
        Assert.Equal(algorithm, prf.Algorithm);
        Assert.Equal(expected.Length / 2, prf.OutputSize);
        Assert.Equal(expected, Convert.ToHexStringLower(prf.Compute(key, data)));
    }

    [Theory]
    [MemberData(nameof(Rfc4231))]
    public void Integrity_icv_is_the_truncated_hmac(PrfAlgorithm algorithm, int testCase, string expected)
    {
        var integrity = algorithm switch
        {
            PrfAlgorithm.HmacSha2_256 => IntegrityAlgorithm.HmacSha2_256_128,
            PrfAlgorithm.HmacSha2_384 => IntegrityAlgorithm.HmacSha2_384_192,
            _ => IntegrityAlgorithm.HmacSha2_512_256,
        };
        var (key, data) = Case(testCase);
        var icv = new byte[SkCipherFactory.IcvLength(integrity)];
        IntegrityHmac.Compute(integrity, key, data, icv);
        Assert.Equal(expected[..(icv.Length * 2)], Convert.ToHexStringLower(icv));
        Assert.Equal(expected.Length / 2, SkCipherFactory.IntegrityKeyLength(integrity));
    }

    [Fact]
    public void Unsupported_prf_throws()
    {
        Assert.Throws<NotSupportedException>(() => PrfFactory.Create((PrfAlgorithm)2));
        Assert.Throws<ArgumentException>(() => HmacSha2Prf.Sha256.Compute([1], [2], new byte[31]));
    }

    private static (byte[] Key, byte[] Data) Case(int testCase) => testCase switch
    {
        1 => (Key1, Data1),
        2 => (Key2, Data2),
        _ => (Key6, Data6),
    };
}
