using System.Security.Cryptography;
using KeyProxy.Ike.Messages;
using KeyProxy.Primitives;
using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Crypto.EC;
using Org.BouncyCastle.Math.EC.Multiplier;
using Org.BouncyCastle.Math.EC.Rfc7748;
using BigInteger = Org.BouncyCastle.Math.BigInteger;
using ECPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace KeyProxy.Ike.Crypto;

/// <summary>
/// Diffie-Hellman in managed code with BouncyCastle: MODP group 14 by modular exponentiation
/// (RFC 3526, 256-bit private exponent), P-256/P-384 on BouncyCastle's custom curve
/// implementations (RFC 5903), X25519 with its RFC 7748 implementation (RFC 8031).
/// Randomness from the system CSPRNG. Stateless, so thread-safe.
/// </summary>
public sealed class BouncyCastleKeyExchangeProvider : IKeyExchangeProvider
{
    private static readonly BigInteger ModpPrime = new(Modp2048.PrimeHex, 16);
    private static readonly BigInteger ModpGenerator = BigInteger.Two;
    private static readonly X9ECParameters P256 = CustomNamedCurves.GetByName("P-256");
    private static readonly X9ECParameters P384 = CustomNamedCurves.GetByName("P-384");

    public string Name => "bouncycastle";

    public bool Supports(DhGroup group) => DhGroupInfo.IsSupportedMethod(group);

    public IKeyExchange Create(DhGroup group) => group switch
    {
        DhGroup.MlKem512 or DhGroup.MlKem768 or DhGroup.MlKem1024 => new MlKemKeyExchange(group, new Org.BouncyCastle.Security.SecureRandom()),
        DhGroup.Modp2048 => new ModpKeyExchange(RandomExponent()),
        DhGroup.Ecp256 or DhGroup.Ecp384 => new EcKeyExchange(group, RandomScalar(Curve(group).N)),
        DhGroup.Curve25519 => new X25519KeyExchange(RandomNumberGenerator.GetBytes(X25519.ScalarSize)),
        _ => throw new NotSupportedException($"{Name} does not support DH group {group}"),
    };

    /// <summary>Creates a key pair from a fixed private key (known-answer tests); the public value is computed.</summary>
    internal IKeyExchange CreateFromPrivateKey(DhGroup group, ReadOnlySpan<byte> privateKey) => group switch
    {
        DhGroup.Modp2048 => new ModpKeyExchange(new BigInteger(1, privateKey.ToArray())),
        DhGroup.Ecp256 or DhGroup.Ecp384 => new EcKeyExchange(group, new BigInteger(1, privateKey.ToArray())),
        DhGroup.Curve25519 => new X25519KeyExchange(privateKey.ToArray()),
        _ => throw new NotSupportedException($"{Name} does not support DH group {group}"),
    };

    private static X9ECParameters Curve(DhGroup group) => group == DhGroup.Ecp256 ? P256 : P384;

    private static BigInteger RandomExponent()
    {
        // 256 random bits, top bit set so the exponent has its full length; never 0 or 1.
        var bytes = RandomNumberGenerator.GetBytes(Modp2048.PrivateExponentBits / 8);
        bytes[0] |= 0x80;
        return new BigInteger(1, bytes);
    }

    /// <summary>Uniform scalar in [1, n-1] by rejection sampling (FIPS 186-5 A.4.2 style).</summary>
    private static BigInteger RandomScalar(BigInteger n)
    {
        var bytes = new byte[(n.BitLength + 7) / 8];
        while (true)
        {
            RandomNumberGenerator.Fill(bytes);
            var d = new BigInteger(1, bytes);
            if (d.SignValue > 0 && d.CompareTo(n) < 0)
            {
                CryptographicOperations.ZeroMemory(bytes);
                return d;
            }
        }
    }

    /// <summary>Big-endian, left-padded with zeros to <paramref name="length"/> (RFC 7296 3.4 and 2.14).</summary>
    private static byte[] FixedLength(BigInteger value, int length)
    {
        var minimal = value.ToByteArrayUnsigned(); // minimal length: no leading zero bytes
        if (minimal.Length == length)
        {
            return minimal;
        }

        var result = new byte[length];
        minimal.CopyTo(result, length - minimal.Length);
        CryptographicOperations.ZeroMemory(minimal);
        return result;
    }

    private sealed class ModpKeyExchange(BigInteger x) : IKeyExchange
    {
        private BigInteger? _x = x;
        private readonly byte[] _publicKey = FixedLength(ModpGenerator.ModPow(x, ModpPrime), Modp2048.Length);

        public DhGroup Group => DhGroup.Modp2048;

        public ReadOnlySpan<byte> PublicKey => _publicKey;

        public byte[] DeriveSharedSecret(ReadOnlySpan<byte> peerPublicKey)
        {
            var x = _x ?? throw new ObjectDisposedException(nameof(ModpKeyExchange));
            Modp2048.ValidatePeerPublic(peerPublicKey);
            var y = new BigInteger(1, peerPublicKey.ToArray());
            return FixedLength(y.ModPow(x, ModpPrime), Modp2048.Length);
        }

        public void Dispose() => _x = null; // BigInteger is immutable: the reference is dropped
    }

    private sealed class EcKeyExchange : IKeyExchange
    {
        private readonly X9ECParameters _curve;
        private readonly int _fieldLength;
        private readonly byte[] _publicKey;
        private BigInteger? _d;

        public EcKeyExchange(DhGroup group, BigInteger d)
        {
            Group = group;
            _curve = Curve(group);
            _d = d;
            _fieldLength = DhGroupInfo.SharedSecretLength(group);
            var q = new FixedPointCombMultiplier().Multiply(_curve.G, d).Normalize();
            _publicKey = new byte[2 * _fieldLength];
            q.AffineXCoord.EncodeTo(_publicKey, 0);
            q.AffineYCoord.EncodeTo(_publicKey, _fieldLength);
        }

        public DhGroup Group { get; }

        public ReadOnlySpan<byte> PublicKey => _publicKey;

        public byte[] DeriveSharedSecret(ReadOnlySpan<byte> peerPublicKey)
        {
            var d = _d ?? throw new ObjectDisposedException(nameof(EcKeyExchange));
            DhGroupInfo.CheckPeerLength(Group, peerPublicKey);
            ECPoint peer;
            try
            {
                // RFC 5903 7: x||y; create the affine point and check it is on the curve (SEC1 3.2.2.1,
                // cofactor 1 so on-curve and not infinity suffice).
                var x = new BigInteger(1, peerPublicKey[.._fieldLength].ToArray());
                var y = new BigInteger(1, peerPublicKey[_fieldLength..].ToArray());
                peer = _curve.Curve.ValidatePoint(x, y);
            }
            catch (ArgumentException)
            {
                throw new InvalidKeyExchangeException(Group, "point is not on the curve");
            }

            var shared = peer.Multiply(d).Normalize();
            if (shared.IsInfinity)
            {
                throw new InvalidKeyExchangeException(Group, "shared point is infinity");
            }

            var secret = new byte[_fieldLength];
            shared.AffineXCoord.EncodeTo(secret, 0);
            return secret;
        }

        public void Dispose() => _d = null;
    }

    private sealed class X25519KeyExchange : IKeyExchange
    {
        private readonly byte[] _privateKey;
        private readonly byte[] _publicKey = new byte[X25519.PointSize];
        private bool _disposed;

        public X25519KeyExchange(byte[] privateKey)
        {
            _privateKey = privateKey;
            X25519.ScalarMultBase(_privateKey, 0, _publicKey, 0);
        }

        public DhGroup Group => DhGroup.Curve25519;

        public ReadOnlySpan<byte> PublicKey => _publicKey;

        public byte[] DeriveSharedSecret(ReadOnlySpan<byte> peerPublicKey)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            DhGroupInfo.CheckPeerLength(Group, peerPublicKey);
            var secret = new byte[X25519.PointSize];
            // CalculateAgreement returns false for an all-zero result (RFC 7748 6.1, RFC 8031 2.3).
            if (!X25519.CalculateAgreement(_privateKey, 0, peerPublicKey.ToArray(), 0, secret, 0))
            {
                throw new InvalidKeyExchangeException(Group, "shared secret is all zero (small-order peer point)");
            }

            return secret;
        }

        public void Dispose()
        {
            _disposed = true;
            CryptographicOperations.ZeroMemory(_privateKey);
        }
    }
}
