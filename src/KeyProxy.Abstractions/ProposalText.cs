namespace KeyProxy.Abstractions;

/// <summary>
/// Checks strongSwan-style proposals ("aes128gcm16-prfsha256-x25519", "aes256-sha256") against the transforms the
/// KeyProxy IKE engine implements, without referencing it (<c>KeyProxy.Primitives.SuiteNames</c> and the engine's <c>IkeSuiteNames</c>
/// accept exactly the same proposals; a test holds them together).
/// </summary>
public static class ProposalText
{
    private enum Kind { Encryption, AeadEncryption, Integrity, Prf, Group }

    /// <summary>True when <paramref name="text"/> is a valid IKE SA proposal (encryption, integrity unless AEAD, optional PRF, a DH group).</summary>
    public static bool IsValidIke(string? text, out string error) => Check(text, esp: false, out error);

    /// <summary>True when <paramref name="text"/> is a valid ESP proposal (encryption, integrity unless AEAD, optional PFS group, no PRF).</summary>
    public static bool IsValidEsp(string? text, out string error) => Check(text, esp: true, out error);

    private static Kind? KindOf(string token) => token switch
    {
        "aes128gcm16" or "aes128gcm" or "aes256gcm16" or "aes256gcm" => Kind.AeadEncryption,
        "aes128" or "aes256" => Kind.Encryption,
        "sha256" or "sha384" or "sha512" => Kind.Integrity,
        "prfsha256" or "prfsha384" or "prfsha512" => Kind.Prf,
        "modp2048" or "ecp256" or "ecp384" or "x25519" or "curve25519" => Kind.Group,
        _ => null,
    };

    private static bool Check(string? text, bool esp, out string error)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "empty proposal";
            return false;
        }

        bool encryption = false, aead = false, integrity = false, prf = false, group = false;
        foreach (var token in text.Split('-'))
        {
            var kind = KindOf(token);
            if (kind is null)
            {
                error = token.Length == 0 ? $"empty algorithm name in '{text}'" : $"unknown algorithm '{token}' in '{text}'";
                return false;
            }

            ref var seen = ref encryption;
            var name = "encryption algorithm";
            switch (kind)
            {
                case Kind.Integrity: seen = ref integrity; name = "integrity algorithm"; break;
                case Kind.Prf: seen = ref prf; name = "PRF"; break;
                case Kind.Group: seen = ref group; name = "DH group"; break;
            }

            if (seen)
            {
                error = $"'{text}' names more than one {name}";
                return false;
            }

            seen = true;
            aead |= kind == Kind.AeadEncryption;
        }

        error = (encryption, aead, integrity, prf, group) switch
        {
            (false, _, _, _, _) => $"'{text}' names no encryption algorithm",
            (_, true, true, _, _) => $"'{text}' combines AES-GCM with an integrity algorithm; AEAD needs none",
            (_, false, false, _, _) => $"'{text}' names no integrity algorithm, which AES-CBC needs",
            (_, _, _, true, _) when esp => $"'{text}' names a PRF, which ESP proposals do not have",
            (_, _, _, _, false) when !esp => $"'{text}' names no DH group",
            _ => string.Empty,
        };
        return error.Length == 0;
    }
}
