using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Messages;

namespace KeyProxy.Ike.Auth;

/// <summary>
/// Produces our AUTH payload and verifies the peer's (RFC 7296 2.15, RFC 7427 3). Sans-IO and
/// stateless: the caller computes the signed octets with <see cref="SignedOctets"/> and passes the
/// time. Only method 2 (PSK) and method 14 (Digital Signature) are ever produced.
/// </summary>
public static class IkeAuthenticator
{
    /// <summary>The 17 ASCII octets of RFC 7296 2.15, without terminator.</summary>
    private static ReadOnlySpan<byte> KeyPad => "Key Pad for IKEv2"u8;

    /// <summary>
    /// Our AUTH payload over <paramref name="signedOctets"/> (ours: see <see cref="SignedOctets.Compute"/>).
    /// PSK: <c>prf(prf(Shared Secret, "Key Pad for IKEv2"), signed octets)</c>, method 2.
    /// Certificate: method 14, <c>length | AlgorithmIdentifier | signature</c>, with a hash the peer
    /// announced in SIGNATURE_HASH_ALGORITHMS (SHA2-256 when it announced nothing).
    /// </summary>
    /// <param name="peerSignatureHashes">The peer's SIGNATURE_HASH_ALGORITHMS (see <see cref="SignatureHashAlgorithms.TryParse"/>); null if it sent none.</param>
    /// <exception cref="InvalidOperationException">The peer announced hashes but none of SHA2-256/384/512.</exception>
    public static AuthenticationPayload CreateAuthentication(
        IkeCredential credential,
        ReadOnlySpan<byte> signedOctets,
        Prf prf,
        IReadOnlyCollection<SignatureHashAlgorithm>? peerSignatureHashes = null)
    {
        ArgumentNullException.ThrowIfNull(credential);
        return credential switch
        {
            PreSharedKeyCredential psk => new AuthenticationPayload(AuthMethod.SharedKeyMessageIntegrityCode, ComputePreSharedKeyAuth(psk, signedOctets, prf)),
            CertificateCredential certificate => Sign(certificate, signedOctets, peerSignatureHashes),
            _ => throw new ArgumentException($"unsupported credential {credential.GetType().Name}", nameof(credential)),
        };
    }

    /// <summary>AUTH = prf(prf(Shared Secret, "Key Pad for IKEv2"), signed octets) (RFC 7296 2.15).</summary>
    public static byte[] ComputePreSharedKeyAuth(PreSharedKeyCredential preSharedKey, ReadOnlySpan<byte> signedOctets, Prf prf)
    {
        ArgumentNullException.ThrowIfNull(preSharedKey);
        ArgumentNullException.ThrowIfNull(prf);
        var auth = new byte[prf.OutputSize];
        ComputePreSharedKeyAuth(preSharedKey, signedOctets, prf, auth);
        return auth;
    }

    private static void ComputePreSharedKeyAuth(PreSharedKeyCredential preSharedKey, ReadOnlySpan<byte> signedOctets, Prf prf, Span<byte> destination)
    {
        Span<byte> padKey = stackalloc byte[prf.OutputSize];
        try
        {
            prf.Compute(preSharedKey.Key, KeyPad, padKey);
            prf.Compute(padKey, signedOctets, destination);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(padKey);
        }
    }

    /// <summary>
    /// Verifies the peer's IKE_AUTH: its ID against the expected identity, the AUTH method against
    /// the configuration, and then either the PSK MAC or the certificate chain, the ID-certificate
    /// binding and the signature.
    /// </summary>
    /// <param name="peer">How this peer is to be verified.</param>
    /// <param name="peerId">The peer's IDi/IDr payload.</param>
    /// <param name="auth">The peer's AUTH payload.</param>
    /// <param name="peerCertificates">The peer's CERT payloads in message order (empty for PSK).</param>
    /// <param name="signedOctets">The peer's signed octets: <see cref="SignedOctets.Compute"/> over the peer's IKE_SA_INIT
    /// message, our nonce, the peer's SK_p and <paramref name="peerId"/>.</param>
    /// <param name="prf">The negotiated PRF (for PSK).</param>
    /// <param name="now">The time certificates are validated at.</param>
    public static AuthResult VerifyPeer(
        PeerAuthentication peer,
        IdentificationPayload peerId,
        AuthenticationPayload auth,
        IReadOnlyList<CertificatePayload> peerCertificates,
        ReadOnlySpan<byte> signedOctets,
        Prf prf,
        DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(peer);
        ArgumentNullException.ThrowIfNull(peerId);
        ArgumentNullException.ThrowIfNull(auth);
        ArgumentNullException.ThrowIfNull(peerCertificates);
        ArgumentNullException.ThrowIfNull(prf);

        if (!IkeIdentity.TryFromPayload(peerId, out var identity, out var idError))
        {
            return AuthResult.Fail(AuthFailureReason.MalformedIdentity, idError);
        }

        if (peer.ExpectedIdentity is { } expected && expected != identity)
        {
            return AuthResult.Fail(AuthFailureReason.IdentityMismatch, $"peer identified as '{identity}' ({identity.Type}), expected '{expected}' ({expected.Type})", identity);
        }

        if (peer.PreSharedKey is { } psk)
        {
            if (auth.Method != AuthMethod.SharedKeyMessageIntegrityCode)
            {
                return AuthResult.Fail(AuthFailureReason.UnexpectedAuthMethod, $"peer '{identity}' used AUTH method {auth.Method}; a pre-shared key is configured", identity);
            }

            return VerifyPreSharedKey(psk, auth, signedOctets, prf)
                ? AuthResult.Success(identity, null, $"'{identity}' proved the pre-shared key")
                : AuthResult.Fail(AuthFailureReason.PreSharedKeyMismatch, $"AUTH of '{identity}' does not match our pre-shared key", identity);
        }

        if (!IsSignatureMethod(auth.Method, peer.AcceptLegacySignatureMethods))
        {
            return AuthResult.Fail(AuthFailureReason.UnexpectedAuthMethod, $"peer '{identity}' used AUTH method {auth.Method}; certificate authentication is configured", identity);
        }

        var validation = peer.CertificateValidator!.Validate(peerCertificates, identity, now);
        if (!validation.IsValid)
        {
            return AuthResult.Fail(validation.Failure, validation.Reason, identity, validation.EndEntity);
        }

        var signature = VerifySignature(auth, signedOctets, validation.EndEntity, peer.AcceptedHashes, peer.AcceptLegacySignatureMethods);
        return signature.Succeeded
            ? AuthResult.Success(identity, validation.EndEntity, $"'{identity}' signed with {validation.EndEntity.Subject} ({signature.Reason}), chained to {validation.TrustAnchor.Subject}")
            : AuthResult.Fail(signature.Failure, $"'{identity}': {signature.Reason}", identity, validation.EndEntity);
    }

    /// <summary>Checks a PSK AUTH value in fixed time (RFC 7296 2.15).</summary>
    public static bool VerifyPreSharedKey(PreSharedKeyCredential preSharedKey, AuthenticationPayload auth, ReadOnlySpan<byte> signedOctets, Prf prf)
    {
        ArgumentNullException.ThrowIfNull(auth);
        if (auth.Method != AuthMethod.SharedKeyMessageIntegrityCode)
        {
            return false;
        }

        ArgumentNullException.ThrowIfNull(preSharedKey);
        ArgumentNullException.ThrowIfNull(prf);
        Span<byte> expected = stackalloc byte[prf.OutputSize];
        try
        {
            ComputePreSharedKeyAuth(preSharedKey, signedOctets, prf, expected);
            // FixedTimeEquals is constant-time for equal lengths; the length itself is public (the PRF's output size).
            return auth.Data.Length == expected.Length && CryptographicOperations.FixedTimeEquals(expected, auth.Data.Span);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(expected);
        }
    }

    /// <summary>
    /// Verifies a signature AUTH with the public key of an already validated certificate: method 14
    /// (RFC 7427 3), and when <paramref name="acceptLegacyMethods"/>, methods 1 (RSA PKCS#1 v1.5
    /// SHA-1) and 9/10/11 (ECDSA with the curve's hash, raw r|s, RFC 4754).
    /// On success <see cref="AuthResult.Reason"/> names the algorithm.
    /// </summary>
    public static AuthResult VerifySignature(
        AuthenticationPayload auth,
        ReadOnlySpan<byte> signedOctets,
        X509Certificate2 signerCertificate,
        IReadOnlyCollection<SignatureHashAlgorithm>? acceptedHashes = null,
        bool acceptLegacyMethods = true)
    {
        ArgumentNullException.ThrowIfNull(auth);
        ArgumentNullException.ThrowIfNull(signerCertificate);
        acceptedHashes ??= SignatureHashAlgorithms.Supported;

        using var ecdsa = signerCertificate.GetECDsaPublicKey();
        using var rsa = ecdsa is null ? signerCertificate.GetRSAPublicKey() : null;
        if (ecdsa is null && rsa is null)
        {
            return AuthResult.Fail(AuthFailureReason.UnsupportedCertificateKey, $"certificate {signerCertificate.Subject} has neither an ECDSA nor an RSA key");
        }

        if (rsa is not null && rsa.KeySize < CertificateCredential.MinimumRsaKeySize)
        {
            return AuthResult.Fail(AuthFailureReason.UnsupportedCertificateKey, $"RSA key of {rsa.KeySize} bits in {signerCertificate.Subject}; at least {CertificateCredential.MinimumRsaKeySize} required");
        }

        if (auth.Method != AuthMethod.DigitalSignature)
        {
            if (!acceptLegacyMethods || !IsSignatureMethod(auth.Method, acceptLegacy: true))
            {
                return AuthResult.Fail(AuthFailureReason.UnexpectedAuthMethod, $"AUTH method {auth.Method} is not accepted");
            }

            return VerifyLegacy(auth, signedOctets, ecdsa, rsa);
        }

        // RFC 7427 3: ASN.1 Length (1 octet) | AlgorithmIdentifier | Signature Value.
        var data = auth.Data.Span;
        if (data.Length < 2 || data[0] == 0 || data.Length <= 1 + data[0])
        {
            return AuthResult.Fail(AuthFailureReason.MalformedAuthData, $"Digital Signature AUTH of {data.Length} octets is too short for its AlgorithmIdentifier");
        }

        var algorithmLength = data[0];
        if (!SignatureAlgorithmIdentifier.TryDecode(data.Slice(1, algorithmLength), out var algorithm, out var algorithmError))
        {
            var malformed = algorithmError.StartsWith("unsupported", StringComparison.Ordinal) ? AuthFailureReason.UnsupportedSignatureAlgorithm : AuthFailureReason.MalformedAuthData;
            return AuthResult.Fail(malformed, algorithmError);
        }

        var signature = data[(1 + algorithmLength)..];
        if (algorithm!.HashId is not { } hashId || !acceptedHashes.Contains(hashId) ||
            (algorithm.Kind == SignatureKind.RsaPss && (SignatureHashAlgorithms.FromHashAlgorithmName(algorithm.MgfHash) is not { } mgfId || !acceptedHashes.Contains(mgfId))))
        {
            return AuthResult.Fail(AuthFailureReason.SignatureHashNotAccepted, $"{algorithm} uses a hash outside {string.Join(", ", acceptedHashes)}");
        }

        bool valid;
        switch (algorithm.Kind)
        {
            case SignatureKind.Ecdsa when ecdsa is not null:
                valid = VerifyEcdsa(ecdsa, signedOctets, signature, algorithm.Hash, DSASignatureFormat.Rfc3279DerSequence);
                break;
            case SignatureKind.RsaPkcs1 when rsa is not null:
                valid = VerifyRsa(rsa, signedOctets, signature, algorithm.Hash, RSASignaturePadding.Pkcs1);
                break;
            case SignatureKind.RsaPss when rsa is not null:
                valid = VerifyRsaPss(rsa, signedOctets, signature, algorithm);
                break;
            default:
                return AuthResult.Fail(AuthFailureReason.KeyTypeMismatch, $"{algorithm} signature but the certificate {signerCertificate.Subject} has an {(ecdsa is not null ? "ECDSA" : "RSA")} key");
        }

        return valid
            ? AuthResult.Success(null, signerCertificate, algorithm.ToString())
            : AuthResult.Fail(AuthFailureReason.InvalidSignature, $"{algorithm} signature does not verify with the key of {signerCertificate.Subject}");
    }

    private static AuthenticationPayload Sign(CertificateCredential credential, ReadOnlySpan<byte> signedOctets, IReadOnlyCollection<SignatureHashAlgorithm>? peerHashes)
    {
        var hashId = SignatureHashAlgorithms.Select(peerHashes, SignatureHashAlgorithms.Supported, credential.PreferredHash)
            ?? throw new InvalidOperationException(
                $"the peer's SIGNATURE_HASH_ALGORITHMS ({string.Join(", ", peerHashes ?? [])}) has none of {string.Join(", ", SignatureHashAlgorithms.Supported)}");
        var hash = hashId.ToHashAlgorithmName()!.Value;

        SignatureAlgorithmIdentifier algorithm;
        byte[] signature;
        if (credential.IsEcdsa)
        {
            using var key = credential.Certificate.GetECDsaPrivateKey()!;
            algorithm = SignatureAlgorithmIdentifier.Ecdsa(hash);
            // RFC 7427 3: the ECDSA signature value is the DER ECDSA-Sig-Value (RFC 3279 2.2.3), not r|s.
            signature = key.SignData(signedOctets, hash, DSASignatureFormat.Rfc3279DerSequence);
        }
        else
        {
            using var key = credential.Certificate.GetRSAPrivateKey()!;
            algorithm = credential.UseRsaPss ? SignatureAlgorithmIdentifier.RsaPss(hash) : SignatureAlgorithmIdentifier.RsaPkcs1(hash);
            signature = key.SignData(signedOctets, hash, credential.UseRsaPss ? RSASignaturePadding.Pss : RSASignaturePadding.Pkcs1);
        }

        var der = algorithm.EncodedSpan;
        var data = new byte[1 + der.Length + signature.Length];
        data[0] = checked((byte)der.Length);
        der.CopyTo(data.AsSpan(1));
        signature.CopyTo(data.AsSpan(1 + der.Length));
        return new AuthenticationPayload(AuthMethod.DigitalSignature, data);
    }

    private static bool IsSignatureMethod(AuthMethod method, bool acceptLegacy) => method switch
    {
        AuthMethod.DigitalSignature => true,
        AuthMethod.RsaDigitalSignature or AuthMethod.EcdsaSha256P256 or AuthMethod.EcdsaSha384P384 or AuthMethod.EcdsaSha512P521 => acceptLegacy,
        _ => false,
    };

    // RFC 7296 3.8 method 1: RSASSA-PKCS1-v1_5 with SHA-1. RFC 4754 methods 9/10/11: ECDSA on the
    // named curve with its hash, signature r|s fixed length.
    private static AuthResult VerifyLegacy(AuthenticationPayload auth, ReadOnlySpan<byte> signedOctets, ECDsa? ecdsa, RSA? rsa)
    {
        var signature = auth.Data.Span;
        if (auth.Method == AuthMethod.RsaDigitalSignature)
        {
            if (rsa is null)
            {
                return AuthResult.Fail(AuthFailureReason.KeyTypeMismatch, "RSA_DIGITAL_SIGNATURE AUTH but the certificate has an ECDSA key");
            }

            return VerifyRsa(rsa, signedOctets, signature, HashAlgorithmName.SHA1, RSASignaturePadding.Pkcs1)
                ? AuthResult.Success(null, null, "RSA_DIGITAL_SIGNATURE (PKCS#1 v1.5, SHA-1)")
                : AuthResult.Fail(AuthFailureReason.InvalidSignature, "RSA_DIGITAL_SIGNATURE does not verify");
        }

        var (curveBits, hash) = auth.Method switch
        {
            AuthMethod.EcdsaSha256P256 => (256, HashAlgorithmName.SHA256),
            AuthMethod.EcdsaSha384P384 => (384, HashAlgorithmName.SHA384),
            _ => (521, HashAlgorithmName.SHA512),
        };
        if (ecdsa is null || ecdsa.KeySize != curveBits)
        {
            return AuthResult.Fail(AuthFailureReason.KeyTypeMismatch, $"{auth.Method} AUTH needs a P-{curveBits} key; the certificate has {(ecdsa is null ? "an RSA key" : $"a {ecdsa.KeySize}-bit curve")}");
        }

        return VerifyEcdsa(ecdsa, signedOctets, signature, hash, DSASignatureFormat.IeeeP1363FixedFieldConcatenation)
            ? AuthResult.Success(null, null, $"{auth.Method} (RFC 4754)")
            : AuthResult.Fail(AuthFailureReason.InvalidSignature, $"{auth.Method} signature does not verify");
    }

    private static bool VerifyEcdsa(ECDsa key, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature, HashAlgorithmName hash, DSASignatureFormat format)
    {
        try
        {
            return key.VerifyData(data, signature, hash, format);
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    private static bool VerifyRsa(RSA key, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature, HashAlgorithmName hash, RSASignaturePadding padding)
    {
        try
        {
            return key.VerifyData(data, signature, hash, padding);
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    // .NET verifies PSS only with MGF1 over the message hash and a salt as long as the hash; other
    // RFC 4055 parameter sets go through BouncyCastle's PSS verifier.
    private static bool VerifyRsaPss(RSA key, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature, SignatureAlgorithmIdentifier algorithm)
    {
        if (algorithm.MgfHash == algorithm.Hash && algorithm.SaltLength == SignatureAlgorithmIdentifier.HashLength(algorithm.Hash))
        {
            return VerifyRsa(key, data, signature, algorithm.Hash, RSASignaturePadding.Pss);
        }

        return RsaPssVerifier.Verify(key.ExportParameters(includePrivateParameters: false), data, signature, algorithm);
    }
}
