using System.Security.Cryptography;
using KeyProxy.Ike.Auth;

namespace KeyProxy.Ike.Tests.Auth;

public class SignatureAlgorithmIdentifierTests
{
    // RFC 7427 Appendix A (A.1 PKCS#1 v1.5 with NULL parameters, A.3 ECDSA with absent parameters)
    // and the DER RSASSA-PSS identifiers with RFC 4055 3.1 parameters (MGF1 with the same hash,
    // salt = hash length, DEFAULT trailerField omitted).
    public static TheoryData<string, string> Encodings => new()
    {
        { "ecdsa-sha256", "300a06082a8648ce3d040302" },
        { "ecdsa-sha384", "300a06082a8648ce3d040303" },
        { "ecdsa-sha512", "300a06082a8648ce3d040304" },
        { "rsa-sha256", "300d06092a864886f70d01010b0500" },
        { "rsa-sha384", "300d06092a864886f70d01010c0500" },
        { "rsa-sha512", "300d06092a864886f70d01010d0500" },
        {
            "pss-sha256",
            "304106092a864886f70d01010a3034a00f300d06096086480165030402010500a11c301a06092a864886f70d010108300d06096086480165030402010500a203020120"
        },
        {
            "pss-sha384",
            "304106092a864886f70d01010a3034a00f300d06096086480165030402020500a11c301a06092a864886f70d010108300d06096086480165030402020500a203020130"
        },
        {
            "pss-sha512",
            "304106092a864886f70d01010a3034a00f300d06096086480165030402030500a11c301a06092a864886f70d010108300d06096086480165030402030500a203020140"
        },
    };

    [Theory]
    [MemberData(nameof(Encodings))]
    public void Encodes_exact_der_and_decodes_back(string name, string hex)
    {
        var algorithm = ByName(name);

        Assert.Equal(hex, Convert.ToHexStringLower(algorithm.Encode()));
        Assert.True(SignatureAlgorithmIdentifier.TryDecode(Convert.FromHexString(hex), out var decoded, out var error), error);
        Assert.Equal(algorithm, decoded);
    }

    [Fact]
    public void Decodes_rfc7427_legacy_and_default_forms()
    {
        // A.1.1 sha1WithRSAEncryption and A.3.1 ecdsa-with-sha1: decodable (refused later by hash policy).
        AssertDecodes("300d06092a864886f70d0101050500", SignatureKind.RsaPkcs1, HashAlgorithmName.SHA1);
        AssertDecodes("300906072a8648ce3d0401", SignatureKind.Ecdsa, HashAlgorithmName.SHA1);

        // A.4.1 RSASSA-PSS with empty parameters: every RFC 4055 default (SHA-1, MGF1-SHA1, salt 20).
        var empty = AssertDecodes("300d06092a864886f70d01010a3000", SignatureKind.RsaPss, HashAlgorithmName.SHA1);
        Assert.Equal(HashAlgorithmName.SHA1, empty.MgfHash);
        Assert.Equal(20, empty.SaltLength);
        Assert.Equal("300d06092a864886f70d01010a3000", Convert.ToHexStringLower(empty.Encode()));

        // The same parameters written out in full, trailerField included (A.4.2 style).
        var explicitDefaults = AssertDecodes(
            "303e06092a864886f70d01010a3031a00b300906052b0e03021a0500a118301606092a864886f70d010108300906052b0e03021a0500a203020114a303020101",
            SignatureKind.RsaPss, HashAlgorithmName.SHA1);
        Assert.Equal(empty, explicitDefaults);

        // SHA-256 PSS with an explicit default trailerField, as some encoders send it.
        var withTrailer = AssertDecodes(
            "304606092a864886f70d01010a3039a00f300d06096086480165030402010500a11c301a06092a864886f70d010108300d06096086480165030402010500a203020120a303020101",
            SignatureKind.RsaPss, HashAlgorithmName.SHA256);
        Assert.Equal(SignatureAlgorithmIdentifier.RsaPssSha256, withTrailer);

        // ECDSA with NULL parameters is tolerated.
        Assert.Equal(SignatureAlgorithmIdentifier.EcdsaWithSha256, AssertDecodes("300c06082a8648ce3d0403020500", SignatureKind.Ecdsa, HashAlgorithmName.SHA256));
    }

    [Theory]
    [InlineData("", "malformed")]
    [InlineData("300a06082a8648ce3d04030200", "malformed")]  // trailing byte
    [InlineData("300b06092a864886f70d0101", "malformed")]  // truncated
    [InlineData("300506032b6570", "unsupported")]  // Ed25519 (RFC 8420): not implemented
    [InlineData("301006092a864886f70d01010a3003a20100", "malformed")]  // [2] salt not an INTEGER inside
    [InlineData("304106092a864886f70d01010a3034a00f300d06096086480165030402010500a11c301a06092a864886f70d010108300d06096086480165030402010500a203020120a303020102", "malformed")]  // declared length wrong
    public void Rejects_malformed_or_unsupported(string hex, string kind)
    {
        Assert.False(SignatureAlgorithmIdentifier.TryDecode(Convert.FromHexString(hex), out var algorithm, out var error));
        Assert.Null(algorithm);
        Assert.NotEmpty(error);
        if (kind == "unsupported")
        {
            Assert.StartsWith("unsupported", error);
        }
    }

    [Fact]
    public void Rejects_pss_trailer_other_than_one()
    {
        var hex = "303e06092a864886f70d01010a3031a00b300906052b0e03021a0500a118301606092a864886f70d010108300906052b0e03021a0500a203020114a303020102";
        Assert.False(SignatureAlgorithmIdentifier.TryDecode(Convert.FromHexString(hex), out _, out var error));
        Assert.Contains("trailerField", error);
    }

    [Fact]
    public void Custom_pss_parameters_round_trip()
    {
        var custom = SignatureAlgorithmIdentifier.RsaPss(HashAlgorithmName.SHA384, HashAlgorithmName.SHA256, saltLength: 0);

        Assert.True(SignatureAlgorithmIdentifier.TryDecode(custom.Encode(), out var decoded, out _));
        Assert.Equal(custom, decoded);
        Assert.Equal("RSASSA-PSS(SHA384, MGF1-SHA256, salt 0)", decoded!.ToString());
    }

    private static SignatureAlgorithmIdentifier AssertDecodes(string hex, SignatureKind kind, HashAlgorithmName hash)
    {
        Assert.True(SignatureAlgorithmIdentifier.TryDecode(Convert.FromHexString(hex), out var algorithm, out var error), error);
        Assert.Equal(kind, algorithm!.Kind);
        Assert.Equal(hash, algorithm.Hash);
        return algorithm;
    }

    private static SignatureAlgorithmIdentifier ByName(string name) => name switch
    {
        "ecdsa-sha256" => SignatureAlgorithmIdentifier.EcdsaWithSha256,
        "ecdsa-sha384" => SignatureAlgorithmIdentifier.EcdsaWithSha384,
        "ecdsa-sha512" => SignatureAlgorithmIdentifier.EcdsaWithSha512,
        "rsa-sha256" => SignatureAlgorithmIdentifier.Sha256WithRsaEncryption,
        "rsa-sha384" => SignatureAlgorithmIdentifier.Sha384WithRsaEncryption,
        "rsa-sha512" => SignatureAlgorithmIdentifier.Sha512WithRsaEncryption,
        "pss-sha256" => SignatureAlgorithmIdentifier.RsaPssSha256,
        "pss-sha384" => SignatureAlgorithmIdentifier.RsaPssSha384,
        _ => SignatureAlgorithmIdentifier.RsaPssSha512,
    };
}
