using System.Security.Cryptography;
using System.Text;

namespace KeyProxy.Wire.Access;

/// <summary>
/// The key schedule (docs/wire.md, "Keys"), HKDF with SHA-256 (RFC 5869) over the subscriber's provisioned
/// secret (at least 16 bytes):
/// attach key = HKDF(secret, salt "KeyProxy v1", info "attach key", 32);
/// delivery key = HKDF(secret, salt = handset nonce || edge nonce, info "delivery key" || identity, 32),
/// a fresh one per attachment. The identity is encoded as on the wire (type, length, UTF-8).
/// </summary>
public static class SubscriberKeys
{
    public const int MinSecretLength = 16;
    public const int KeySize = 32;

    public static ReadOnlySpan<byte> AttachSalt => "KeyProxy v1"u8;
    public static ReadOnlySpan<byte> AttachInfo => "attach key"u8;
    public static ReadOnlySpan<byte> DeliveryInfoLabel => "delivery key"u8;

    /// <summary>HKDF-SHA-256 (RFC 5869 2): extract with <paramref name="salt"/>, expand with <paramref name="info"/> to fill <paramref name="output"/>.</summary>
    public static void Hkdf(ReadOnlySpan<byte> inputKeyMaterial, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> info, Span<byte> output) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, inputKeyMaterial, output, salt, info);

    public static void DeriveAttachKey(ReadOnlySpan<byte> secret, Span<byte> attachKey)
    {
        CheckSecret(secret);
        Hkdf(secret, AttachSalt, AttachInfo, attachKey[..KeySize]);
    }

    public static byte[] DeriveAttachKey(ReadOnlySpan<byte> secret)
    {
        var key = new byte[KeySize];
        DeriveAttachKey(secret, key);
        return key;
    }

    public static void DeriveDeliveryKey(ReadOnlySpan<byte> secret, Nonce16 handsetNonce, Nonce16 edgeNonce,
        SubscriberIdentity identity, Span<byte> deliveryKey)
    {
        CheckSecret(secret);
        if (identity.Validate() != WireError.None)
            throw new ArgumentException("the identity cannot be encoded", nameof(identity));
        Span<byte> salt = stackalloc byte[2 * Nonce16.Size];
        handsetNonce.WriteTo(salt);
        edgeNonce.WriteTo(salt[Nonce16.Size..]);
        Span<byte> info = stackalloc byte[DeliveryInfoLabel.Length + 2 + SubscriberIdentity.MaxBytes];
        DeliveryInfoLabel.CopyTo(info);
        int n = DeliveryInfoLabel.Length + identity.WriteTo(info[DeliveryInfoLabel.Length..]);
        Hkdf(secret, salt, info[..n], deliveryKey[..KeySize]);
    }

    public static byte[] DeriveDeliveryKey(ReadOnlySpan<byte> secret, Nonce16 handsetNonce, Nonce16 edgeNonce, SubscriberIdentity identity)
    {
        var key = new byte[KeySize];
        DeriveDeliveryKey(secret, handsetNonce, edgeNonce, identity, key);
        return key;
    }

    static void CheckSecret(ReadOnlySpan<byte> secret)
    {
        if (secret.Length < MinSecretLength)
            throw new ArgumentException($"the subscriber secret must be at least {MinSecretLength} bytes", nameof(secret));
    }
}
