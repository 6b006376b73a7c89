using KeyProxy.Ike.Messages;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Crypto;

/// <summary>
/// One ephemeral Diffie-Hellman key pair (RFC 7296 2.7, 3.4). The public value is in the
/// IKEv2 KE payload encoding of its group: MODP big-endian padded to the prime length
/// (RFC 7296 3.4), ECP x||y (RFC 5903 7), Curve25519 the 32-byte u-coordinate (RFC 8031 2).
/// </summary>
public interface IKeyExchange : IDisposable
{
    DhGroup Group { get; }

    /// <summary>The local public value, ready for the KE payload.</summary>
    ReadOnlySpan<byte> PublicKey { get; }

    /// <summary>
    /// Computes g^ir from the peer's KE payload data: for ECP the x-coordinate only (RFC 5903 7),
    /// for MODP padded to the prime length. Throws <see cref="InvalidKeyExchangeException"/> when
    /// the peer value has the wrong length or is not a valid public key for the group.
    /// </summary>
    byte[] DeriveSharedSecret(ReadOnlySpan<byte> peerPublicKey);
}

/// <summary>Creates key pairs for the groups it supports.</summary>
public interface IKeyExchangeProvider
{
    string Name { get; }

    bool Supports(DhGroup group);

    IKeyExchange Create(DhGroup group);
}

/// <summary>A peer's KE data is malformed or not a point/element of the group.</summary>
public sealed class InvalidKeyExchangeException(DhGroup group, string reason)
    : Exception($"invalid key exchange data for group {group}: {reason}")
{
    public DhGroup Group { get; } = group;
}
