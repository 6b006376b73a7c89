using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace KeyProxy.Abstractions;

/// <summary>
/// Checks a <see cref="SubscriberProfile"/> before it is stored. Pure: no I/O, no grain calls. Every error names
/// the field in the admin API's JSON spelling (e.g. "conditions[1].peerPrefix") and never quotes key material.
/// </summary>
public static class SubscriberProfileValidator
{
    /// <summary>Shortest subscriber secret: 128 bits, the strength of the AES keys derived from it.</summary>
    public const int MinSecretLength = 16;

    /// <summary>Longest subscriber secret accepted.</summary>
    public const int MaxSecretLength = 1024;

    /// <summary>Shortest pre-shared key (RFC 7296 2.15 asks for keys as strong as the strongest negotiated key).</summary>
    public const int MinPskLength = 16;

    /// <summary>Longest NAI (RFC 7542 2.2: implementations must support at least 253 octets).</summary>
    public const int MaxNaiLength = 253;

    /// <summary>Proxy conditions per profile, at most: a profile is copied to the edge on every attach and listed by the API.</summary>
    public const int MaxConditions = 256;

    /// <summary>Pre-shared keys per profile, at most.</summary>
    public const int MaxPreSharedKeys = 64;

    /// <summary>Longest pre-shared key accepted.</summary>
    public const int MaxPskLength = 1024;

    /// <summary>Trusted CA certificates per profile, at most.</summary>
    public const int MaxTrustedCas = 16;

    /// <summary>Longest PEM text (certificate, private key, trusted CA) accepted: an RSA-4096 chain member is about 2 KiB.</summary>
    public const int MaxPemLength = 16 * 1024;

    /// <summary>IKE or ESP proposals per profile, at most.</summary>
    public const int MaxProposals = 16;

    /// <summary>Every problem of <paramref name="profile"/>, empty when it can be stored.</summary>
    public static IReadOnlyList<string> Validate(SubscriberProfile? profile)
    {
        var errors = new List<string>();
        if (profile is null)
        {
            errors.Add("profile: missing");
            return errors;
        }

        if (!IsNai(profile.Nai, out var naiError))
        {
            errors.Add($"nai: {naiError}");
        }

        if (profile.Msisdn is { } msisdn && !IsMsisdn(msisdn))
        {
            errors.Add($"msisdn: '{msisdn}' is not an MSISDN (5 to 15 digits, no '+' or spaces)");
        }

        var secretLength = profile.Secret?.Length ?? 0;
        if (secretLength < MinSecretLength)
        {
            errors.Add($"secret: {secretLength} bytes is too short; at least {MinSecretLength} bytes");
        }
        else if (secretLength > MaxSecretLength)
        {
            errors.Add($"secret: {secretLength} bytes is too long; at most {MaxSecretLength} bytes");
        }

        ValidateConditions(profile.Conditions, errors);

        if (!string.IsNullOrEmpty(profile.IkeIdentity) || profile.ProxyService)
        {
            if (!IkeIdentityText.TryParse(profile.IkeIdentity, out _, out _, out var idError))
            {
                errors.Add($"ikeIdentity: {idError}");
            }
        }

        ValidatePreSharedKeys(profile.PreSharedKeys, errors);
        ValidateCertificates(profile.Certificate, profile.TrustedCaPems, errors);

        if (profile.ProxyService && (profile.PreSharedKeys is null || profile.PreSharedKeys.Count == 0) && profile.Certificate is null)
        {
            errors.Add("proxyService: the proxy service needs a credential: a certificate or at least one pre-shared key");
        }

        ValidateProposals("ikeProposals", profile.IkeProposals, esp: false, errors);
        ValidateProposals("espProposals", profile.EspProposals, esp: true, errors);
        return errors;
    }

    /// <summary>RFC 7542 2.2, restricted to ASCII: user "@" realm, realm of at least two DNS labels.</summary>
    public static bool IsNai(string? nai, out string error)
    {
        error = string.Empty;
        if (string.IsNullOrEmpty(nai))
        {
            error = "is empty; expected user@realm, e.g. 'alice@keyproxy.test'";
            return false;
        }

        if (nai.Length > MaxNaiLength)
        {
            error = $"is {nai.Length} characters long; at most {MaxNaiLength}";
            return false;
        }

        var at = nai.IndexOf('@');
        if (at <= 0 || at != nai.LastIndexOf('@'))
        {
            error = $"'{nai}' is not user@realm (exactly one '@' after a non-empty user name)";
            return false;
        }

        foreach (var c in nai.AsSpan(0, at))
        {
            if (c is < '!' or > '~' or '/' or '\\' or '?' or '#' or '%')
            {
                error = $"'{nai}' has a user name with a space, a control character, non-ASCII or one of / \\ ? # %";
                return false;
            }
        }

        var realm = nai[(at + 1)..];
        var labels = realm.Split('.');
        if (labels.Length < 2)
        {
            error = $"'{nai}' has realm '{realm}' without a '.'; expected e.g. 'keyproxy.test'";
            return false;
        }

        foreach (var label in labels)
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-' || !label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
            {
                error = $"'{nai}' has realm '{realm}' that is not a domain name (labels of letters, digits and inner '-')";
                return false;
            }
        }

        return true;
    }

    /// <summary>5 to 15 ASCII digits (E.164 without the '+').</summary>
    public static bool IsMsisdn(string? msisdn) =>
        msisdn is { Length: >= 5 and <= 15 } && msisdn.All(char.IsAsciiDigit);

    private static void ValidateConditions(IReadOnlyList<ProxyCondition>? conditions, List<string> errors)
    {
        if (conditions is null)
        {
            return;
        }

        if (conditions.Count > MaxConditions)
        {
            errors.Add($"conditions: {conditions.Count} conditions; at most {MaxConditions}");
            return;
        }

        for (var i = 0; i < conditions.Count; i++)
        {
            var at = $"conditions[{i}]";
            if (conditions[i] is not { } condition)
            {
                errors.Add($"{at}: missing");
                continue;
            }

            if (!NetworkPrefix.TryParse(condition.PeerPrefix, out _, out var prefixError))
            {
                errors.Add($"{at}.peerPrefix: {prefixError}");
            }

            if (condition.StartPort > condition.EndPort)
            {
                errors.Add($"{at}: startPort {condition.StartPort} is above endPort {condition.EndPort}");
            }

            if (condition.Roles == ProxyRoles.None)
            {
                errors.Add($"{at}.roles: no role; allow initiator, responder or both");
            }
            else if ((condition.Roles & ~(ProxyRoles.Initiator | ProxyRoles.Responder)) != 0)
            {
                errors.Add($"{at}.roles: unknown role bits {(int)condition.Roles}");
            }

            if (condition.PeerIdentity is not null && !IkeIdentityText.TryParse(condition.PeerIdentity, out _, out _, out var idError))
            {
                errors.Add($"{at}.peerIdentity: {idError}");
            }
        }
    }

    private static void ValidatePreSharedKeys(IReadOnlyList<PeerPsk>? keys, List<string> errors)
    {
        if (keys is null)
        {
            return;
        }

        if (keys.Count > MaxPreSharedKeys)
        {
            errors.Add($"preSharedKeys: {keys.Count} keys; at most {MaxPreSharedKeys}");
            return;
        }

        for (var i = 0; i < keys.Count; i++)
        {
            var at = $"preSharedKeys[{i}]";
            if (keys[i] is not { } psk)
            {
                errors.Add($"{at}: missing");
                continue;
            }

            if (!NetworkPrefix.TryParse(psk.PeerPrefix, out _, out var prefixError))
            {
                errors.Add($"{at}.peerPrefix: {prefixError}");
            }

            if (psk.PeerIdentity is not null && !IkeIdentityText.TryParse(psk.PeerIdentity, out _, out _, out var idError))
            {
                errors.Add($"{at}.peerIdentity: {idError}");
            }

            var length = psk.Key?.Length ?? 0;
            if (length < MinPskLength)
            {
                errors.Add($"{at}.key: {length} bytes is too short; at least {MinPskLength} bytes");
            }
            else if (length > MaxPskLength)
            {
                errors.Add($"{at}.key: {length} bytes is too long; at most {MaxPskLength} bytes");
            }
        }
    }

    private static void ValidateCertificates(IkeCertificateCredential? credential, IReadOnlyList<string>? trustedCas, List<string> errors)
    {
        if (credential is not null && (IsTooLong("certificate.certificatePem", credential.CertificatePem, errors)
            | IsTooLong("certificate.privateKeyPem", credential.PrivateKeyPem, errors)))
        {
            credential = null; // not parsed
        }

        if (credential is not null)
        {
            X509Certificate2? certificate = null;
            try
            {
                certificate = X509Certificate2.CreateFromPem(credential.CertificatePem ?? string.Empty);
            }
            catch (Exception e) when (e is CryptographicException or ArgumentException)
            {
                errors.Add("certificate.certificatePem: does not hold a PEM certificate that loads");
            }

            if (certificate is not null)
            {
                using (certificate)
                {
                    try
                    {
                        using var withKey = X509Certificate2.CreateFromPem(credential.CertificatePem, credential.PrivateKeyPem ?? string.Empty);
                        if (!withKey.HasPrivateKey)
                        {
                            errors.Add("certificate.privateKeyPem: the private key did not load");
                        }
                    }
                    catch (Exception e) when (e is CryptographicException or ArgumentException)
                    {
                        // The exception text is not passed on: it may describe the key.
                        errors.Add("certificate.privateKeyPem: not an unencrypted PEM private key (PKCS#8, PKCS#1 or SEC1) of the certificate's public key");
                    }
                }
            }
        }

        if (trustedCas is null)
        {
            return;
        }

        if (trustedCas.Count > MaxTrustedCas)
        {
            errors.Add($"trustedCaPems: {trustedCas.Count} certificates; at most {MaxTrustedCas}");
            return;
        }

        for (var i = 0; i < trustedCas.Count; i++)
        {
            if (IsTooLong($"trustedCaPems[{i}]", trustedCas[i], errors))
            {
                continue;
            }

            try
            {
                using var ca = X509Certificate2.CreateFromPem(trustedCas[i] ?? string.Empty);
            }
            catch (Exception e) when (e is CryptographicException or ArgumentException)
            {
                errors.Add($"trustedCaPems[{i}]: does not hold a PEM certificate that loads");
            }
        }
    }

    private static bool IsTooLong(string field, string? pem, List<string> errors)
    {
        if (pem is null || pem.Length <= MaxPemLength)
        {
            return false;
        }

        errors.Add($"{field}: {pem.Length} characters; at most {MaxPemLength}");
        return true;
    }

    private static void ValidateProposals(string field, IReadOnlyList<string>? proposals, bool esp, List<string> errors)
    {
        if (proposals is null || proposals.Count == 0)
        {
            errors.Add($"{field}: at least one proposal");
            return;
        }

        if (proposals.Count > MaxProposals)
        {
            errors.Add($"{field}: {proposals.Count} proposals; at most {MaxProposals}");
            return;
        }

        for (var i = 0; i < proposals.Count; i++)
        {
            var ok = esp ? ProposalText.IsValidEsp(proposals[i], out var error) : ProposalText.IsValidIke(proposals[i], out error);
            if (!ok)
            {
                errors.Add($"{field}[{i}]: {error}");
            }
        }
    }
}
