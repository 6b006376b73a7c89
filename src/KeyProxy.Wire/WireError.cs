namespace KeyProxy.Wire;

/// <summary>Why a KeyProxy message (proxy request, key transfer, access link) could not be read or written.</summary>
public enum WireError : byte
{
    None = 0,

    /// <summary>The data ends inside a fixed-size field or a counted list.</summary>
    Truncated,

    /// <summary>Bytes follow the last field of the message or body.</summary>
    TrailingBytes,

    /// <summary>The 28-byte IKE header is not a KeyProxy header of the expected kind (SPIs, version, exchange type, flags).</summary>
    BadHeader,

    /// <summary>The IKE header Length or the generic payload header Length disagrees with the data.</summary>
    LengthMismatch,

    /// <summary>The payload type, its critical bit or its next payload field is not the one the message must have.</summary>
    BadPayload,

    /// <summary>A body or access-link version other than 1.</summary>
    BadVersion,

    /// <summary>A reserved field is not zero.</summary>
    ReservedNotZero,

    /// <summary>A flags field has bits this version does not define.</summary>
    UnknownFlags,

    /// <summary>An access-link message type or key-transfer kind that does not exist.</summary>
    UnknownType,

    /// <summary>A list is longer, or a text or identity longer, than the format allows.</summary>
    LimitExceeded,

    /// <summary>An address family byte other than 4 or 6.</summary>
    BadAddress,

    /// <summary>A traffic selector of an unsupported type, a wrong length, or (when writing) mixed address families.</summary>
    BadTrafficSelector,

    /// <summary>Text or identity that is not valid UTF-8, or an empty identity.</summary>
    BadText,

    /// <summary>A field holds a value outside its defined set (mode, reason, identity type, SPI below 256, tunnel id).</summary>
    BadValue,

    /// <summary>The destination span is too small (writers only).</summary>
    DestinationTooSmall,
}
