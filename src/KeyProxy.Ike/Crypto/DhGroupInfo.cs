using KeyProxy.Ike.Messages;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Crypto;

/// <summary>Sizes of the KE payload data and of g^ir per supported Diffie-Hellman group.</summary>
public static class DhGroupInfo
{
    /// <summary>True for the groups this library implements: 14, 19, 20, 31.</summary>
    public static bool IsSupported(DhGroup group) =>
        group is DhGroup.Modp2048 or DhGroup.Ecp256 or DhGroup.Ecp384 or DhGroup.Curve25519;

    /// <summary>True for every key exchange method implemented here: the DH groups and ML-KEM (RFC 9370 additional key exchanges).</summary>
    public static bool IsSupportedMethod(DhGroup group) => IsSupported(group) || MlKemParameterSet.IsMlKem(group);

    /// <summary>
    /// Length of the KE payload data: MODP the prime length (RFC 7296 3.4), ECP x||y (RFC 5903 7),
    /// Curve25519 the 32-byte u-coordinate (RFC 8031 2).
    /// </summary>
    public static int PublicKeyLength(DhGroup group) => group switch
    {
        DhGroup.Modp2048 => 256,
        DhGroup.Ecp256 => 64,
        DhGroup.Ecp384 => 96,
        DhGroup.Curve25519 => 32,
        _ => throw new NotSupportedException($"DH group {group} is not supported"),
    };

    /// <summary>Length of g^ir: MODP padded to the prime length, ECP the x-coordinate (RFC 5903 7), X25519 32 bytes.</summary>
    public static int SharedSecretLength(DhGroup group) => group switch
    {
        DhGroup.Modp2048 => 256,
        DhGroup.Ecp256 => 32,
        DhGroup.Ecp384 => 48,
        DhGroup.Curve25519 => 32,
        _ => throw new NotSupportedException($"DH group {group} is not supported"),
    };

    internal static void CheckPeerLength(DhGroup group, ReadOnlySpan<byte> peerPublicKey)
    {
        if (peerPublicKey.Length != PublicKeyLength(group))
        {
            throw new InvalidKeyExchangeException(group, $"public value is {peerPublicKey.Length} bytes, expected {PublicKeyLength(group)}");
        }
    }

    /// <summary>RFC 8031 2.3 / RFC 7748 6.1: an all-zero X25519 output means a small-order peer point.</summary>
    internal static void CheckNotAllZero(DhGroup group, ReadOnlySpan<byte> sharedSecret)
    {
        if (sharedSecret.IndexOfAnyExcept((byte)0) < 0)
        {
            throw new InvalidKeyExchangeException(group, "shared secret is all zero (small-order peer point)");
        }
    }
}
