namespace KeyProxy.Ike.Messages;

/// <summary>
/// SK payload as received (RFC 7296 3.14): still sealed. <see cref="BodyOffset"/> is the offset of the
/// IV within the whole message, so the cipher can authenticate message[0..BodyOffset).
/// The generic header's Next Payload is the type of the first inner payload.
/// </summary>
public sealed record EncryptedPayload(PayloadType FirstInnerPayload, int BodyOffset) : IkePayload
{
    public override PayloadType Type => PayloadType.Encrypted;
}

/// <summary>SKF payload as received (RFC 7383 2.5). FirstInnerPayload is meaningful only in fragment 1.</summary>
public sealed record EncryptedFragmentPayload(PayloadType FirstInnerPayload, ushort FragmentNumber, ushort TotalFragments, int BodyOffset) : IkePayload
{
    public override PayloadType Type => PayloadType.EncryptedFragment;
}

/// <summary>A payload this codec does not model (CP, EAP, unknown types). A critical one must be refused (RFC 7296 2.5).</summary>
public sealed record UnknownPayload(PayloadType RawType, ReadOnlyMemory<byte> Body) : IkePayload
{
    public override PayloadType Type => RawType;
}
