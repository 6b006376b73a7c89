using System.Formats.Asn1;
using System.Security.Cryptography;

namespace KeyProxy.Ike.Auth;

/// <summary>
/// The ASN.1 AlgorithmIdentifier at the front of a Digital Signature AUTH payload (RFC 7427 3,
/// Appendix A). Encodes exact DER: ECDSA identifiers have absent parameters (RFC 5758 3.2),
/// PKCS#1 v1.5 identifiers NULL parameters (RFC 4055 5), RSASSA-PSS identifiers the RFC 4055 3.1
/// RSASSA-PSS-params with DEFAULT values omitted (X.690 11.5), hash identifiers inside with NULL.
/// Decoding is more lenient where RFC 4055 asks receivers to be (NULL or absent hash parameters, an
/// explicit default trailerField).
/// </summary>
public sealed class SignatureAlgorithmIdentifier : IEquatable<SignatureAlgorithmIdentifier>
{
    private const string EcdsaWithSha1Oid = "1.2.840.10045.4.1";
    private const string EcdsaWithSha256Oid = "1.2.840.10045.4.3.2";
    private const string EcdsaWithSha384Oid = "1.2.840.10045.4.3.3";
    private const string EcdsaWithSha512Oid = "1.2.840.10045.4.3.4";
    private const string Sha1WithRsaOid = "1.2.840.113549.1.1.5";
    private const string Sha256WithRsaOid = "1.2.840.113549.1.1.11";
    private const string Sha384WithRsaOid = "1.2.840.113549.1.1.12";
    private const string Sha512WithRsaOid = "1.2.840.113549.1.1.13";
    private const string RsassaPssOid = "1.2.840.113549.1.1.10";
    private const string Mgf1Oid = "1.2.840.113549.1.1.8";
    private const string Sha1Oid = "1.3.14.3.2.26";
    private const string Sha256Oid = "2.16.840.1.101.3.4.2.1";
    private const string Sha384Oid = "2.16.840.1.101.3.4.2.2";
    private const string Sha512Oid = "2.16.840.1.101.3.4.2.3";

    /// <summary>RFC 4055 3.1 defaults: SHA-1, MGF1 with SHA-1, salt 20, trailer 1.</summary>
    private const int PssDefaultSaltLength = 20;

    public static SignatureAlgorithmIdentifier EcdsaWithSha256 { get; } = Ecdsa(HashAlgorithmName.SHA256);
    public static SignatureAlgorithmIdentifier EcdsaWithSha384 { get; } = Ecdsa(HashAlgorithmName.SHA384);
    public static SignatureAlgorithmIdentifier EcdsaWithSha512 { get; } = Ecdsa(HashAlgorithmName.SHA512);
    public static SignatureAlgorithmIdentifier Sha256WithRsaEncryption { get; } = RsaPkcs1(HashAlgorithmName.SHA256);
    public static SignatureAlgorithmIdentifier Sha384WithRsaEncryption { get; } = RsaPkcs1(HashAlgorithmName.SHA384);
    public static SignatureAlgorithmIdentifier Sha512WithRsaEncryption { get; } = RsaPkcs1(HashAlgorithmName.SHA512);
    public static SignatureAlgorithmIdentifier RsaPssSha256 { get; } = RsaPss(HashAlgorithmName.SHA256);
    public static SignatureAlgorithmIdentifier RsaPssSha384 { get; } = RsaPss(HashAlgorithmName.SHA384);
    public static SignatureAlgorithmIdentifier RsaPssSha512 { get; } = RsaPss(HashAlgorithmName.SHA512);

    private byte[]? _der;

    private SignatureAlgorithmIdentifier(SignatureKind kind, HashAlgorithmName hash, HashAlgorithmName mgfHash, int saltLength)
    {
        Kind = kind;
        Hash = hash;
        MgfHash = mgfHash;
        SaltLength = saltLength;
    }

    public SignatureKind Kind { get; }

    /// <summary>The message hash.</summary>
    public HashAlgorithmName Hash { get; }

    /// <summary>RSASSA-PSS only: the MGF1 hash (RFC 8017 B.2.1). Equals <see cref="Hash"/> otherwise.</summary>
    public HashAlgorithmName MgfHash { get; }

    /// <summary>RSASSA-PSS only: the salt length in bytes. Zero otherwise.</summary>
    public int SaltLength { get; }

    /// <summary>The hash as a SIGNATURE_HASH_ALGORITHMS id (RFC 7427 4).</summary>
    public SignatureHashAlgorithm? HashId => SignatureHashAlgorithms.FromHashAlgorithmName(Hash);

    /// <summary>ecdsa-with-SHA* (RFC 5758 3.2). Parameters absent.</summary>
    public static SignatureAlgorithmIdentifier Ecdsa(HashAlgorithmName hash) =>
        new(SignatureKind.Ecdsa, CheckHash(hash), hash, 0);

    /// <summary>sha*WithRSAEncryption (RFC 4055 5). Parameters NULL.</summary>
    public static SignatureAlgorithmIdentifier RsaPkcs1(HashAlgorithmName hash) =>
        new(SignatureKind.RsaPkcs1, CheckHash(hash), hash, 0);

    /// <summary>id-RSASSA-PSS (RFC 4055 3.1); by default MGF1 with the same hash and a salt as long as the hash (RFC 8247 3.2 style).</summary>
    public static SignatureAlgorithmIdentifier RsaPss(HashAlgorithmName hash, HashAlgorithmName? mgfHash = null, int? saltLength = null)
    {
        CheckHash(hash);
        var mgf = CheckHash(mgfHash ?? hash);
        var salt = saltLength ?? HashLength(hash);
        ArgumentOutOfRangeException.ThrowIfNegative(salt, nameof(saltLength));
        return new SignatureAlgorithmIdentifier(SignatureKind.RsaPss, hash, mgf, salt);
    }

    /// <summary>The DER AlgorithmIdentifier (RFC 5280 4.1.1.2).</summary>
    public byte[] Encode() => (byte[])(_der ??= BuildDer()).Clone();

    internal ReadOnlySpan<byte> EncodedSpan => _der ??= BuildDer();

    /// <summary>
    /// Decodes a DER AlgorithmIdentifier. False, with a human reason, when it is malformed or names a
    /// signature scheme KeyProxy does not implement.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> der, out SignatureAlgorithmIdentifier? algorithm, out string error)
    {
        algorithm = null;
        try
        {
            var outer = new AsnReader(der.ToArray(), AsnEncodingRules.DER);
            var seq = outer.ReadSequence();
            if (outer.HasData)
            {
                error = "trailing bytes after the AlgorithmIdentifier";
                return false;
            }

            var oid = seq.ReadObjectIdentifier();
            switch (oid)
            {
                case EcdsaWithSha1Oid or EcdsaWithSha256Oid or EcdsaWithSha384Oid or EcdsaWithSha512Oid:
                    // RFC 5758 3.2: parameters MUST be absent; tolerate NULL as many decoders do.
                    if (!ReadOptionalNull(seq, out error))
                    {
                        return false;
                    }

                    algorithm = new SignatureAlgorithmIdentifier(SignatureKind.Ecdsa, EcdsaHash(oid), EcdsaHash(oid), 0);
                    return true;

                case Sha1WithRsaOid or Sha256WithRsaOid or Sha384WithRsaOid or Sha512WithRsaOid:
                    // RFC 4055 5: NULL parameters; accept absent too.
                    if (!ReadOptionalNull(seq, out error))
                    {
                        return false;
                    }

                    algorithm = new SignatureAlgorithmIdentifier(SignatureKind.RsaPkcs1, RsaHash(oid), RsaHash(oid), 0);
                    return true;

                case RsassaPssOid:
                    return TryReadPssParameters(seq, out algorithm, out error);

                default:
                    error = $"unsupported signature algorithm {oid}";
                    return false;
            }
        }
        catch (AsnContentException e)
        {
            error = $"malformed AlgorithmIdentifier: {e.Message}";
            return false;
        }
    }

    public bool Equals(SignatureAlgorithmIdentifier? other) =>
        other is not null && Kind == other.Kind && Hash == other.Hash && MgfHash == other.MgfHash && SaltLength == other.SaltLength;

    public override bool Equals(object? obj) => Equals(obj as SignatureAlgorithmIdentifier);

    public override int GetHashCode() => HashCode.Combine(Kind, Hash, MgfHash, SaltLength);

    public override string ToString() => Kind switch
    {
        SignatureKind.Ecdsa => $"ecdsa-with-{Hash.Name}",
        SignatureKind.RsaPkcs1 => $"{Hash.Name!.ToLowerInvariant()}WithRSAEncryption",
        _ => $"RSASSA-PSS({Hash.Name}, MGF1-{MgfHash.Name}, salt {SaltLength})",
    };

    internal static int HashLength(HashAlgorithmName hash) =>
        hash == HashAlgorithmName.SHA1 ? 20 :
        hash == HashAlgorithmName.SHA256 ? 32 :
        hash == HashAlgorithmName.SHA384 ? 48 :
        hash == HashAlgorithmName.SHA512 ? 64 :
        throw new ArgumentException($"unsupported hash {hash.Name}");

    private static HashAlgorithmName CheckHash(HashAlgorithmName hash)
    {
        _ = HashLength(hash);
        return hash;
    }

    private byte[] BuildDer()
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            switch (Kind)
            {
                case SignatureKind.Ecdsa:
                    writer.WriteObjectIdentifier(EcdsaOid(Hash));
                    break;
                case SignatureKind.RsaPkcs1:
                    writer.WriteObjectIdentifier(RsaOid(Hash));
                    writer.WriteNull();
                    break;
                default:
                    writer.WriteObjectIdentifier(RsassaPssOid);
                    WritePssParameters(writer);
                    break;
            }
        }

        return writer.Encode();
    }

    // RSASSA-PSS-params (RFC 4055 3.1); DER omits components equal to their DEFAULT.
    private void WritePssParameters(AsnWriter writer)
    {
        using (writer.PushSequence())
        {
            if (Hash != HashAlgorithmName.SHA1)
            {
                using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
                {
                    WriteHashAlgorithm(writer, Hash);
                }
            }

            if (MgfHash != HashAlgorithmName.SHA1)
            {
                using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 1, isConstructed: true)))
                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier(Mgf1Oid);
                    WriteHashAlgorithm(writer, MgfHash);
                }
            }

            if (SaltLength != PssDefaultSaltLength)
            {
                using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 2, isConstructed: true)))
                {
                    writer.WriteInteger(SaltLength);
                }
            }
        }
    }

    private static void WriteHashAlgorithm(AsnWriter writer, HashAlgorithmName hash)
    {
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(HashOid(hash));
            writer.WriteNull();
        }
    }

    private static bool TryReadPssParameters(AsnReader algorithmSequence, out SignatureAlgorithmIdentifier? algorithm, out string error)
    {
        algorithm = null;
        var hash = HashAlgorithmName.SHA1;
        var mgfHash = HashAlgorithmName.SHA1;
        var salt = PssDefaultSaltLength;

        // RFC 4055 3.1: absent parameters are not allowed for id-RSASSA-PSS in a signature, but an
        // empty SEQUENCE means every default (RFC 7427 A.4.1).
        if (!algorithmSequence.HasData)
        {
            error = "RSASSA-PSS without parameters";
            return false;
        }

        var p = algorithmSequence.ReadSequence();
        if (algorithmSequence.HasData)
        {
            error = "trailing data after RSASSA-PSS parameters";
            return false;
        }

        var tag0 = new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true);
        var tag1 = new Asn1Tag(TagClass.ContextSpecific, 1, isConstructed: true);
        var tag2 = new Asn1Tag(TagClass.ContextSpecific, 2, isConstructed: true);
        var tag3 = new Asn1Tag(TagClass.ContextSpecific, 3, isConstructed: true);

        if (p.HasData && p.PeekTag().HasSameClassAndValue(tag0))
        {
            var explicitHash = p.ReadSequence(tag0);
            if (!TryReadHashAlgorithm(explicitHash, out hash, out error))
            {
                return false;
            }
        }

        if (p.HasData && p.PeekTag().HasSameClassAndValue(tag1))
        {
            var mgf = p.ReadSequence(tag1).ReadSequence();
            var mgfOid = mgf.ReadObjectIdentifier();
            if (mgfOid != Mgf1Oid)
            {
                error = $"unsupported PSS mask generation function {mgfOid}";
                return false;
            }

            if (!TryReadHashAlgorithm(mgf, out mgfHash, out error))
            {
                return false;
            }
        }

        if (p.HasData && p.PeekTag().HasSameClassAndValue(tag2))
        {
            var saltReader = p.ReadSequence(tag2);
            if (!saltReader.TryReadInt32(out salt) || salt < 0 || salt > 1024)
            {
                error = "RSASSA-PSS salt length out of range";
                return false;
            }
        }

        if (p.HasData && p.PeekTag().HasSameClassAndValue(tag3))
        {
            // RFC 4055 3.1: trailerField MUST be 1 (0xBC); some encoders write the default explicitly.
            var trailerReader = p.ReadSequence(tag3);
            if (!trailerReader.TryReadInt32(out var trailer) || trailer != 1)
            {
                error = "RSASSA-PSS trailerField other than 1";
                return false;
            }
        }

        if (p.HasData)
        {
            error = "unexpected element in RSASSA-PSS parameters";
            return false;
        }

        algorithm = new SignatureAlgorithmIdentifier(SignatureKind.RsaPss, hash, mgfHash, salt);
        error = string.Empty;
        return true;
    }

    // A hash AlgorithmIdentifier (RFC 4055 2.1): parameters NULL or absent.
    private static bool TryReadHashAlgorithm(AsnReader container, out HashAlgorithmName hash, out string error)
    {
        hash = default;
        var seq = container.ReadSequence();
        if (container.HasData)
        {
            error = "trailing data after a hash AlgorithmIdentifier";
            return false;
        }

        var oid = seq.ReadObjectIdentifier();
        hash = oid switch
        {
            Sha1Oid => HashAlgorithmName.SHA1,
            Sha256Oid => HashAlgorithmName.SHA256,
            Sha384Oid => HashAlgorithmName.SHA384,
            Sha512Oid => HashAlgorithmName.SHA512,
            _ => default,
        };
        if (hash == default)
        {
            error = $"unsupported hash algorithm {oid}";
            return false;
        }

        return ReadOptionalNull(seq, out error);
    }

    private static bool ReadOptionalNull(AsnReader seq, out string error)
    {
        if (seq.HasData)
        {
            seq.ReadNull();
        }

        if (seq.HasData)
        {
            error = "unexpected AlgorithmIdentifier parameters";
            return false;
        }

        error = string.Empty;
        return true;
    }

    private static HashAlgorithmName EcdsaHash(string oid) => oid switch
    {
        EcdsaWithSha1Oid => HashAlgorithmName.SHA1,
        EcdsaWithSha256Oid => HashAlgorithmName.SHA256,
        EcdsaWithSha384Oid => HashAlgorithmName.SHA384,
        _ => HashAlgorithmName.SHA512,
    };

    private static HashAlgorithmName RsaHash(string oid) => oid switch
    {
        Sha1WithRsaOid => HashAlgorithmName.SHA1,
        Sha256WithRsaOid => HashAlgorithmName.SHA256,
        Sha384WithRsaOid => HashAlgorithmName.SHA384,
        _ => HashAlgorithmName.SHA512,
    };

    private static string EcdsaOid(HashAlgorithmName hash) =>
        hash == HashAlgorithmName.SHA1 ? EcdsaWithSha1Oid :
        hash == HashAlgorithmName.SHA256 ? EcdsaWithSha256Oid :
        hash == HashAlgorithmName.SHA384 ? EcdsaWithSha384Oid : EcdsaWithSha512Oid;

    private static string RsaOid(HashAlgorithmName hash) =>
        hash == HashAlgorithmName.SHA1 ? Sha1WithRsaOid :
        hash == HashAlgorithmName.SHA256 ? Sha256WithRsaOid :
        hash == HashAlgorithmName.SHA384 ? Sha384WithRsaOid : Sha512WithRsaOid;

    private static string HashOid(HashAlgorithmName hash) =>
        hash == HashAlgorithmName.SHA1 ? Sha1Oid :
        hash == HashAlgorithmName.SHA256 ? Sha256Oid :
        hash == HashAlgorithmName.SHA384 ? Sha384Oid : Sha512Oid;
}
