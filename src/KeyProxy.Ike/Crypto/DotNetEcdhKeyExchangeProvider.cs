using System.Security.Cryptography;
using KeyProxy.Ike.Messages;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Crypto;

/// <summary>
/// ECP groups 19 and 20 (RFC 5903) through .NET's <see cref="ECDiffieHellman"/> (OpenSSL-backed on
/// Linux). KE data is x||y (RFC 5903 7); g^ir is the x-coordinate of the shared point, obtained with
/// <see cref="ECDiffieHellman.DeriveRawSecretAgreement"/>. Stateless, so thread-safe.
/// </summary>
public sealed class DotNetEcdhKeyExchangeProvider : IKeyExchangeProvider
{
    public string Name => "dotnet";

    public bool Supports(DhGroup group) => group is DhGroup.Ecp256 or DhGroup.Ecp384;

    public IKeyExchange Create(DhGroup group) => new DotNetEcdhKeyExchange(group, ECDiffieHellman.Create(Curve(group)));

    /// <summary>Imports a fixed key pair (known-answer tests): private scalar and public x||y, big-endian.</summary>
    internal IKeyExchange CreateFromPrivateKey(DhGroup group, ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> publicKey)
    {
        var half = DhGroupInfo.SharedSecretLength(group);
        var parameters = new ECParameters
        {
            Curve = Curve(group),
            D = privateKey.ToArray(),
            Q = new ECPoint { X = publicKey[..half].ToArray(), Y = publicKey[half..].ToArray() },
        };
        return new DotNetEcdhKeyExchange(group, ECDiffieHellman.Create(parameters));
    }

    internal static ECCurve Curve(DhGroup group) => group switch
    {
        DhGroup.Ecp256 => ECCurve.NamedCurves.nistP256,
        DhGroup.Ecp384 => ECCurve.NamedCurves.nistP384,
        _ => throw new NotSupportedException($"dotnet does not support DH group {group}"),
    };

    private sealed class DotNetEcdhKeyExchange : IKeyExchange
    {
        private readonly ECDiffieHellman _key;
        private readonly byte[] _publicKey;

        public DotNetEcdhKeyExchange(DhGroup group, ECDiffieHellman key)
        {
            Group = group;
            _key = key;
            var q = key.ExportParameters(includePrivateParameters: false).Q;
            var half = DhGroupInfo.SharedSecretLength(group);
            _publicKey = new byte[2 * half];
            // ExportParameters gives fixed-length coordinates; copy defensively right-aligned.
            q.X!.CopyTo(_publicKey.AsSpan(half - q.X!.Length));
            q.Y!.CopyTo(_publicKey.AsSpan(2 * half - q.Y!.Length));
        }

        public DhGroup Group { get; }

        public ReadOnlySpan<byte> PublicKey => _publicKey;

        public byte[] DeriveSharedSecret(ReadOnlySpan<byte> peerPublicKey)
        {
            DhGroupInfo.CheckPeerLength(Group, peerPublicKey);
            var half = DhGroupInfo.SharedSecretLength(Group);
            ECDiffieHellman peer;
            try
            {
                // ImportParameters validates the point (on the curve, not infinity).
                peer = ECDiffieHellman.Create(new ECParameters
                {
                    Curve = Curve(Group),
                    Q = new ECPoint { X = peerPublicKey[..half].ToArray(), Y = peerPublicKey[half..].ToArray() },
                });
            }
            catch (CryptographicException e)
            {
                throw new InvalidKeyExchangeException(Group, $"point is not on the curve ({e.Message})");
            }

            using (peer)
            using (var peerPublic = peer.PublicKey)
            {
                return _key.DeriveRawSecretAgreement(peerPublic);
            }
        }

        public void Dispose() => _key.Dispose();
    }
}
