using System.Diagnostics.CodeAnalysis;

namespace KeyProxy.Primitives;

/// <summary>
/// The transforms one proposal names; <see cref="Prf"/> and <see cref="DhGroup"/> are null when it names none, and
/// <see cref="AdditionalKeyExchanges"/> are the "keN_" methods (RFC 9370), empty when it names none.
/// </summary>
public readonly record struct ProposalTransforms(
    EncryptionAlgorithm Encryption, int EncryptionKeyBits, IntegrityAlgorithm Integrity, PrfAlgorithm? Prf, DhGroup? DhGroup,
    AdditionalKeyExchanges AdditionalKeyExchanges = default);

/// <summary>
/// Reads one proposal written the way strongSwan's swanctl.conf writes it, e.g. "aes128gcm16-prfsha256-x25519"
/// (IKE) or "aes256-sha256" (ESP): tokens joined by '-', at most one per transform type (RFC 7296 3.3.2).
/// Only transforms KeyProxy implements are accepted. ESP proposals are read here; IKE SA proposals by the
/// engine's <c>KeyProxy.Ike.Crypto.IkeSuiteNames</c>, from <see cref="TryParseTransforms"/>.
/// </summary>
public static class SuiteNames
{
    /// <summary>An ESP proposal; throws <see cref="FormatException"/> when it does not parse.</summary>
    public static EspSuite ParseEsp(string text) =>
        TryParseEsp(text, out var suite, out var error) ? suite : throw new FormatException(error);

    /// <summary>An ESP proposal: encryption, integrity unless AEAD, an optional PFS group; no PRF.</summary>
    public static bool TryParseEsp(string? text, [NotNullWhen(true)] out EspSuite? suite, out string error)
    {
        suite = null;
        if (!TryParseTransforms(text, out var parsed, out error))
        {
            return false;
        }

        var (encryption, bits, integrity, prf, group, additional) = parsed;
        if (prf is not null)
        {
            error = $"'{text}' names a PRF, which ESP proposals do not have";
            return false;
        }
        if (!additional.IsEmpty)
        {
            error = $"'{text}' names additional key exchanges, which KeyProxy's CHILD_SAs do not negotiate yet";
            return false;
        }

        suite = new EspSuite(encryption, bits, integrity, EsnMode.NoEsn, group ?? DhGroup.None);
        return true;
    }

    /// <summary>
    /// The transforms <paramref name="text"/> names: one encryption algorithm, integrity unless AEAD, at most one PRF and
    /// one key exchange method, and at most one method per additional key exchange slot ("ke1_mlkem768", RFC 9370).
    /// </summary>
    public static bool TryParseTransforms(string? text, out ProposalTransforms parsed, out string error)
    {
        parsed = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "empty proposal";
            return false;
        }

        EncryptionAlgorithm? encryption = null;
        var bits = 0;
        IntegrityAlgorithm? integrity = null;
        PrfAlgorithm? prf = null;
        DhGroup? group = null;
        Span<DhGroup> additional = stackalloc DhGroup[AdditionalKeyExchanges.Slots];
        foreach (var token in text.Split('-'))
        {
            string? duplicate = null;
            if (token.Length > 4 && token.StartsWith("ke", StringComparison.Ordinal) && token[2] is >= '1' and <= '7' && token[3] == '_')
            {
                var slot = token[2] - '0';
                if (TryParseMethod(token[4..], out var method))
                {
                    if (additional[slot - 1] != DhGroup.None)
                    {
                        error = $"'{text}' names more than one method for ke{slot}";
                        return false;
                    }
                    additional[slot - 1] = method;
                    continue;
                }
                error = $"unknown key exchange method '{token[4..]}' in '{text}'";
                return false;
            }
            switch (token)
            {
                case "aes128gcm16" or "aes128gcm" or "aes256gcm16" or "aes256gcm" or "aes128" or "aes256":
                    duplicate = encryption is null ? null : "encryption algorithm";
                    (encryption, bits) = token switch
                    {
                        "aes128gcm16" or "aes128gcm" => (EncryptionAlgorithm.AesGcm16, 128),
                        "aes256gcm16" or "aes256gcm" => (EncryptionAlgorithm.AesGcm16, 256),
                        "aes128" => (EncryptionAlgorithm.AesCbc, 128),
                        _ => (EncryptionAlgorithm.AesCbc, 256),
                    };
                    break;
                case "sha256" or "sha384" or "sha512":
                    duplicate = integrity is null ? null : "integrity algorithm";
                    integrity = token switch
                    {
                        "sha256" => IntegrityAlgorithm.HmacSha2_256_128,
                        "sha384" => IntegrityAlgorithm.HmacSha2_384_192,
                        _ => IntegrityAlgorithm.HmacSha2_512_256,
                    };
                    break;
                case "prfsha256" or "prfsha384" or "prfsha512":
                    duplicate = prf is null ? null : "PRF";
                    prf = token switch
                    {
                        "prfsha256" => PrfAlgorithm.HmacSha2_256,
                        "prfsha384" => PrfAlgorithm.HmacSha2_384,
                        _ => PrfAlgorithm.HmacSha2_512,
                    };
                    break;
                case "modp2048" or "ecp256" or "ecp384" or "x25519" or "curve25519":
                    duplicate = group is null ? null : "DH group";
                    TryParseMethod(token, out var dh);
                    group = dh;
                    break;
                default:
                    error = token.Length == 0 ? $"empty algorithm name in '{text}'" : $"unknown algorithm '{token}' in '{text}'";
                    return false;
            }

            if (duplicate is not null)
            {
                error = $"'{text}' names more than one {duplicate}";
                return false;
            }
        }

        if (encryption is null)
        {
            error = $"'{text}' names no encryption algorithm";
            return false;
        }

        var aead = TransformSizes.IsAead(encryption.Value);
        if (aead && integrity is not null)
        {
            error = $"'{text}' combines AES-GCM with an integrity algorithm; AEAD needs none";
            return false;
        }

        if (!aead && integrity is null)
        {
            error = $"'{text}' names no integrity algorithm, which AES-CBC needs";
            return false;
        }

        parsed = new(encryption.Value, bits, integrity ?? IntegrityAlgorithm.None, prf, group, new AdditionalKeyExchanges(additional));
        error = string.Empty;
        return true;
    }

    /// <summary>A key exchange method by strongSwan's name: the DH groups, and ML-KEM (additional key exchanges only, so far).</summary>
    public static bool TryParseMethod(string name, out DhGroup method)
    {
        method = name switch
        {
            "modp2048" => DhGroup.Modp2048,
            "ecp256" => DhGroup.Ecp256,
            "ecp384" => DhGroup.Ecp384,
            "x25519" or "curve25519" => DhGroup.Curve25519,
            "mlkem512" => DhGroup.MlKem512,
            "mlkem768" => DhGroup.MlKem768,
            "mlkem1024" => DhGroup.MlKem1024,
            _ => DhGroup.None,
        };
        return method != DhGroup.None;
    }

    /// <summary>strongSwan's name of a key exchange method ("x25519", "mlkem768").</summary>
    public static string MethodName(DhGroup method) => method switch
    {
        DhGroup.Modp2048 => "modp2048",
        DhGroup.Ecp256 => "ecp256",
        DhGroup.Ecp384 => "ecp384",
        DhGroup.Curve25519 => "x25519",
        DhGroup.MlKem512 => "mlkem512",
        DhGroup.MlKem768 => "mlkem768",
        DhGroup.MlKem1024 => "mlkem1024",
        _ => method.ToString(),
    };
}
