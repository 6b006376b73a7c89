using System.Security.Cryptography;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using BigInteger = Org.BouncyCastle.Math.BigInteger;

namespace KeyProxy.Ike.Auth;

/// <summary>
/// RSASSA-PSS verification (RFC 8017 8.1.2) with any RFC 4055 parameter set: message hash, MGF1
/// hash and salt length chosen independently, trailer 0xBC.
/// </summary>
internal static class RsaPssVerifier
{
    public static bool Verify(RSAParameters publicKey, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature, SignatureAlgorithmIdentifier algorithm)
    {
        var key = new RsaKeyParameters(false, new BigInteger(1, publicKey.Modulus), new BigInteger(1, publicKey.Exponent));
        var signer = new PssSigner(new RsaEngine(), Digest(algorithm.Hash), Digest(algorithm.MgfHash), algorithm.SaltLength, PssSigner.TrailerImplicit);
        signer.Init(false, key);
        signer.BlockUpdate(data);
        try
        {
            return signer.VerifySignature(signature.ToArray());
        }
        catch (CryptoException)
        {
            return false;
        }
    }

    private static IDigest Digest(HashAlgorithmName hash) =>
        hash == HashAlgorithmName.SHA1 ? new Sha1Digest() :
        hash == HashAlgorithmName.SHA256 ? new Sha256Digest() :
        hash == HashAlgorithmName.SHA384 ? new Sha384Digest() :
        new Sha512Digest();
}
