using KeyProxy.Grains;
using KeyProxy.Ike.Crypto;
using KeyProxy.Primitives;

namespace KeyProxy.Silo.Tests;

/// <summary>GET /api/sessions names suites as <c>swanctl --list-sas</c> prints them.</summary>
public sealed class SuiteTextTests
{
    [Theory]
    [InlineData("aes128gcm16-prfsha256-x25519", "AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519")]
    [InlineData("aes256-sha256-modp2048", "AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048")]
    [InlineData("aes256gcm16-prfsha384-ecp384", "AES_GCM_16-256/PRF_HMAC_SHA2_384/ECP_384")]
    public void Ike_suites_in_strongswan_notation(string proposal, string expected) =>
        Assert.Equal(expected, SuiteText.Ike(IkeSuiteNames.ParseIke(proposal)));

    [Theory]
    [InlineData("aes128gcm16", "AES_GCM_16-128")]
    [InlineData("aes128-sha256", "AES_CBC-128/HMAC_SHA2_256_128")]
    [InlineData("aes256gcm16-ecp256", "AES_GCM_16-256/ECP_256")]
    public void Esp_suites_in_strongswan_notation(string proposal, string expected) =>
        Assert.Equal(expected, SuiteText.Esp(SuiteNames.ParseEsp(proposal)));

    [Fact]
    public void Esn_is_named_as_swanctl_names_it() =>
        Assert.Equal("AES_CBC-128/HMAC_SHA2_256_128/ESN",
            SuiteText.Esp(new EspSuite(EncryptionAlgorithm.AesCbc, 128, IntegrityAlgorithm.HmacSha2_256_128, EsnMode.Esn)));
}
