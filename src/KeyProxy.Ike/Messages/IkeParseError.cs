namespace KeyProxy.Ike.Messages;

/// <summary>
/// A decoding failure: what went wrong and where. <see cref="Offset"/> is relative to the buffer that
/// was being decoded: the datagram for <see cref="IkeCodec.TryDecode"/>, the decrypted inner chain for
/// <see cref="IkeCodec.TryOpen"/> and <see cref="IkeCodec.TryDecodePayloads"/>.
/// </summary>
public readonly record struct IkeParseError(IkeParseErrorKind Kind, int Offset, string Detail)
{
    /// <summary>
    /// The error notification RFC 7296 suggests for this failure, or null when the message must be dropped silently.
    /// INVALID_MAJOR_VERSION goes unprotected (2.5); INVALID_SYNTAX only in an encrypted reply to a message whose ICV verified (3.10.1).
    /// </summary>
    public NotifyType? SuggestedNotify => Kind switch
    {
        IkeParseErrorKind.UnsupportedMajorVersion => NotifyType.InvalidMajorVersion,
        IkeParseErrorKind.UnsupportedTrafficSelectorType => NotifyType.TsUnacceptable,
        IkeParseErrorKind.IntegrityCheckFailed or IkeParseErrorKind.NotProtected or IkeParseErrorKind.Fragmented => null,
        _ => NotifyType.InvalidSyntax,
    };

    public override string ToString() => $"{Kind} at offset {Offset}: {Detail}";
}
