using KeyProxy.Primitives;
using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Messages;
using KeyProxy.Ike.Protocol;

namespace KeyProxy.Grains;

/// <summary>
/// Negotiated suites and CHILD_SA modes in strongSwan's notation, as <c>swanctl --list-sas</c> prints them
/// (<c>AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519</c>, <c>AES_CBC-128/HMAC_SHA2_256_128</c>, <c>TUNNEL-in-UDP</c>),
/// so the admin API's sessions read side by side with the peer's.
/// </summary>
public static class SuiteText
{
    public static string Ike(IkeSuite suite)
    {
        var parts = new List<string>(4) { Encryption(suite.Encryption, suite.EncryptionKeyBits) };
        if (suite.Integrity != IntegrityAlgorithm.None) parts.Add(Integrity(suite.Integrity));
        parts.Add(Prf(suite.Prf));
        if (suite.DhGroup != DhGroup.None) parts.Add(Dh(suite.DhGroup));
        return string.Join('/', parts);
    }

    public static string Esp(EspSuite suite)
    {
        var parts = new List<string>(4) { Encryption(suite.Encryption, suite.EncryptionKeyBits) };
        if (suite.Integrity != IntegrityAlgorithm.None) parts.Add(Integrity(suite.Integrity));
        if (suite.DhGroup != DhGroup.None) parts.Add(Dh(suite.DhGroup));
        if (suite.Esn == EsnMode.Esn) parts.Add("ESN");
        return string.Join('/', parts);
    }

    public static string Mode(ChildSa child) =>
        (child.Mode == ChildSaMode.Tunnel ? "TUNNEL" : "TRANSPORT") + (child.UdpEncapsulation ? "-in-UDP" : "");

    private static string Encryption(EncryptionAlgorithm algorithm, int bits) => algorithm switch
    {
        EncryptionAlgorithm.AesCbc => "AES_CBC",
        EncryptionAlgorithm.AesGcm16 => "AES_GCM_16",
        _ => algorithm.ToString(),
    } + "-" + bits;

    private static string Integrity(IntegrityAlgorithm algorithm) => algorithm switch
    {
        IntegrityAlgorithm.HmacSha2_256_128 => "HMAC_SHA2_256_128",
        IntegrityAlgorithm.HmacSha2_384_192 => "HMAC_SHA2_384_192",
        IntegrityAlgorithm.HmacSha2_512_256 => "HMAC_SHA2_512_256",
        _ => algorithm.ToString(),
    };

    private static string Prf(PrfAlgorithm algorithm) => algorithm switch
    {
        PrfAlgorithm.HmacSha2_256 => "PRF_HMAC_SHA2_256",
        PrfAlgorithm.HmacSha2_384 => "PRF_HMAC_SHA2_384",
        PrfAlgorithm.HmacSha2_512 => "PRF_HMAC_SHA2_512",
        _ => algorithm.ToString(),
    };

    private static string Dh(DhGroup group) => group switch
    {
        DhGroup.Modp2048 => "MODP_2048",
        DhGroup.Ecp256 => "ECP_256",
        DhGroup.Ecp384 => "ECP_384",
        DhGroup.Curve25519 => "CURVE_25519",
        _ => group.ToString(),
    };
}
