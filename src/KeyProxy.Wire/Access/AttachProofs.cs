using System.Net;
using System.Security.Cryptography;

namespace KeyProxy.Wire.Access;

/// <summary>
/// The HMAC-SHA256 proofs of the access link (docs/wire.md, "Proofs"). Verification compares in constant time.
/// attach proof = HMAC(attach key, "KeyProxy attach v1" || identity || handset nonce || edge nonce);
/// network proof = HMAC(attach key, "KeyProxy accept v1" || handset nonce || edge nonce || tunnel id || address);
/// detach proof = HMAC(delivery key, "KeyProxy detach v1" || tunnel id).
/// Identity and address are encoded as on the wire; the tunnel id is u32 big-endian.
/// </summary>
public static class AttachProofs
{
    public const int Size = 32;

    public static ReadOnlySpan<byte> AttachLabel => "KeyProxy attach v1"u8;
    public static ReadOnlySpan<byte> AcceptLabel => "KeyProxy accept v1"u8;
    public static ReadOnlySpan<byte> DetachLabel => "KeyProxy detach v1"u8;

    const int MaxInput = 18 + 2 + SubscriberIdentity.MaxBytes + 2 * Nonce16.Size + 4 + 17;

    public static void ComputeAttachProof(ReadOnlySpan<byte> attachKey, SubscriberIdentity identity, Nonce16 handsetNonce,
        Nonce16 edgeNonce, Span<byte> proof)
    {
        if (identity.Validate() != WireError.None)
            throw new ArgumentException("the identity cannot be encoded", nameof(identity));
        Span<byte> input = stackalloc byte[MaxInput];
        var w = new WireWriter(input);
        w.Bytes(AttachLabel);
        identity.Write(ref w);
        w.Nonce(handsetNonce);
        w.Nonce(edgeNonce);
        HMACSHA256.HashData(attachKey, input[..w.Position], proof[..Size]);
    }

    public static byte[] ComputeAttachProof(ReadOnlySpan<byte> attachKey, SubscriberIdentity identity, Nonce16 handsetNonce, Nonce16 edgeNonce)
    {
        var proof = new byte[Size];
        ComputeAttachProof(attachKey, identity, handsetNonce, edgeNonce, proof);
        return proof;
    }

    /// <summary>False for a wrong proof, a proof of the wrong length or an identity that cannot be encoded.</summary>
    public static bool VerifyAttachProof(ReadOnlySpan<byte> attachKey, SubscriberIdentity identity, Nonce16 handsetNonce,
        Nonce16 edgeNonce, ReadOnlySpan<byte> proof)
    {
        if (proof.Length != Size || identity.Validate() != WireError.None)
            return false;
        Span<byte> expected = stackalloc byte[Size];
        ComputeAttachProof(attachKey, identity, handsetNonce, edgeNonce, expected);
        return CryptographicOperations.FixedTimeEquals(expected, proof);
    }

    public static void ComputeAcceptProof(ReadOnlySpan<byte> attachKey, Nonce16 handsetNonce, Nonce16 edgeNonce,
        uint tunnelId, IPAddress handsetAddress, Span<byte> proof)
    {
        if (AddressField.Validate(handsetAddress) != WireError.None)
            throw new ArgumentException("not an IPv4 or IPv6 address", nameof(handsetAddress));
        Span<byte> input = stackalloc byte[MaxInput];
        var w = new WireWriter(input);
        w.Bytes(AcceptLabel);
        w.Nonce(handsetNonce);
        w.Nonce(edgeNonce);
        w.U32(tunnelId);
        AddressField.Write(ref w, handsetAddress);
        HMACSHA256.HashData(attachKey, input[..w.Position], proof[..Size]);
    }

    public static byte[] ComputeAcceptProof(ReadOnlySpan<byte> attachKey, Nonce16 handsetNonce, Nonce16 edgeNonce, uint tunnelId, IPAddress handsetAddress)
    {
        var proof = new byte[Size];
        ComputeAcceptProof(attachKey, handsetNonce, edgeNonce, tunnelId, handsetAddress, proof);
        return proof;
    }

    public static bool VerifyAcceptProof(ReadOnlySpan<byte> attachKey, Nonce16 handsetNonce, Nonce16 edgeNonce,
        uint tunnelId, IPAddress handsetAddress, ReadOnlySpan<byte> proof)
    {
        if (proof.Length != Size || AddressField.Validate(handsetAddress) != WireError.None)
            return false;
        Span<byte> expected = stackalloc byte[Size];
        ComputeAcceptProof(attachKey, handsetNonce, edgeNonce, tunnelId, handsetAddress, expected);
        return CryptographicOperations.FixedTimeEquals(expected, proof);
    }

    public static void ComputeDetachProof(ReadOnlySpan<byte> deliveryKey, uint tunnelId, Span<byte> proof)
    {
        Span<byte> input = stackalloc byte[DetachLabel.Length + 4];
        DetachLabel.CopyTo(input);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(input[DetachLabel.Length..], tunnelId);
        HMACSHA256.HashData(deliveryKey, input, proof[..Size]);
    }

    public static byte[] ComputeDetachProof(ReadOnlySpan<byte> deliveryKey, uint tunnelId)
    {
        var proof = new byte[Size];
        ComputeDetachProof(deliveryKey, tunnelId, proof);
        return proof;
    }

    public static bool VerifyDetachProof(ReadOnlySpan<byte> deliveryKey, uint tunnelId, ReadOnlySpan<byte> proof)
    {
        if (proof.Length != Size)
            return false;
        Span<byte> expected = stackalloc byte[Size];
        ComputeDetachProof(deliveryKey, tunnelId, expected);
        return CryptographicOperations.FixedTimeEquals(expected, proof);
    }
}
