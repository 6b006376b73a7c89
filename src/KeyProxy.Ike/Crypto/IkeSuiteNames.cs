using System.Diagnostics.CodeAnalysis;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Crypto;

/// <summary>
/// Reads an IKE SA proposal written the way strongSwan's swanctl.conf writes it, e.g. "aes128gcm16-prfsha256-x25519"
/// (the tokens as <see cref="SuiteNames"/> reads them, which also reads ESP proposals).
/// </summary>
public static class IkeSuiteNames
{
    /// <summary>An IKE SA proposal; throws <see cref="FormatException"/> when it does not parse.</summary>
    public static IkeSuite ParseIke(string text) =>
        TryParseIke(text, out var suite, out var error) ? suite : throw new FormatException(error);

    /// <summary>
    /// An IKE SA proposal: encryption, integrity unless AEAD, an optional PRF (default: the integrity
    /// algorithm's hash, SHA-256 for AEAD, as strongSwan does), a DH group and any additional key exchanges
    /// ("aes256gcm16-prfsha384-x25519-ke1_mlkem768", RFC 9370).
    /// </summary>
    public static bool TryParseIke(string? text, [NotNullWhen(true)] out IkeSuite? suite, out string error)
    {
        suite = null;
        if (!SuiteNames.TryParseTransforms(text, out var parsed, out error))
        {
            return false;
        }

        var (encryption, bits, integrity, prf, group, additional) = parsed;
        if (group is null)
        {
            error = $"'{text}' names no DH group";
            return false;
        }

        suite = new IkeSuite(encryption, bits, integrity, prf ?? Default(integrity), group.Value) { AdditionalKeyExchanges = additional };
        return true;
    }

    // strongSwan's convention: without an explicit PRF, the integrity algorithm's hash is used.
    private static PrfAlgorithm Default(IntegrityAlgorithm integrity) => integrity switch
    {
        IntegrityAlgorithm.HmacSha2_384_192 => PrfAlgorithm.HmacSha2_384,
        IntegrityAlgorithm.HmacSha2_512_256 => PrfAlgorithm.HmacSha2_512,
        _ => PrfAlgorithm.HmacSha2_256,
    };
}
