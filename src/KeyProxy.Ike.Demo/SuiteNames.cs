using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Messages;

namespace KeyProxy.Ike.Demo;

/// <summary>Reads proposals written the way strongSwan's swanctl.conf writes them, e.g. aes128gcm16-prfsha256-x25519.</summary>
public static class SuiteNames
{
    public static IkeSuite ParseIke(string text)
    {
        var (encryption, bits, integrity, prf, group) = Parse(text);
        return new IkeSuite(encryption, bits, integrity, prf ?? Default(integrity), group ?? throw new FormatException($"'{text}' names no DH group"));
    }

    public static EspSuite ParseEsp(string text)
    {
        var (encryption, bits, integrity, _, group) = Parse(text);
        return new EspSuite(encryption, bits, integrity, EsnMode.NoEsn, group ?? DhGroup.None);
    }

    private static (EncryptionAlgorithm, int, IntegrityAlgorithm, PrfAlgorithm?, DhGroup?) Parse(string text)
    {
        EncryptionAlgorithm? encryption = null;
        var bits = 0;
        var integrity = IntegrityAlgorithm.None;
        PrfAlgorithm? prf = null;
        DhGroup? group = null;
        foreach (var token in text.Split('-', StringSplitOptions.RemoveEmptyEntries))
        {
            switch (token)
            {
                case "aes128gcm16" or "aes128gcm": (encryption, bits) = (EncryptionAlgorithm.AesGcm16, 128); break;
                case "aes256gcm16" or "aes256gcm": (encryption, bits) = (EncryptionAlgorithm.AesGcm16, 256); break;
                case "aes128": (encryption, bits) = (EncryptionAlgorithm.AesCbc, 128); break;
                case "aes256": (encryption, bits) = (EncryptionAlgorithm.AesCbc, 256); break;
                case "sha256": integrity = IntegrityAlgorithm.HmacSha2_256_128; break;
                case "sha384": integrity = IntegrityAlgorithm.HmacSha2_384_192; break;
                case "sha512": integrity = IntegrityAlgorithm.HmacSha2_512_256; break;
                case "prfsha256": prf = PrfAlgorithm.HmacSha2_256; break;
                case "prfsha384": prf = PrfAlgorithm.HmacSha2_384; break;
                case "prfsha512": prf = PrfAlgorithm.HmacSha2_512; break;
                case "modp2048": group = DhGroup.Modp2048; break;
                case "ecp256": group = DhGroup.Ecp256; break;
                case "ecp384": group = DhGroup.Ecp384; break;
                case "x25519" or "curve25519": group = DhGroup.Curve25519; break;
                default: throw new FormatException($"unknown algorithm '{token}' in '{text}'");
            }
        }
        return (encryption ?? throw new FormatException($"'{text}' names no encryption algorithm"), bits, integrity, prf, group);
    }

    // strongSwan's convention: without an explicit PRF, the integrity algorithm's hash is used.
    private static PrfAlgorithm Default(IntegrityAlgorithm integrity) => integrity switch
    {
        IntegrityAlgorithm.HmacSha2_384_192 => PrfAlgorithm.HmacSha2_384,
        IntegrityAlgorithm.HmacSha2_512_256 => PrfAlgorithm.HmacSha2_512,
        _ => PrfAlgorithm.HmacSha2_256,
    };
}
