namespace KeyProxy.Ike.Messages;

/// <summary>Why an IKE message (or a payload chain) could not be decoded.</summary>
public enum IkeParseErrorKind : byte
{
    /// <summary>The data ends before a fixed-size field or structure does.</summary>
    Truncated = 1,

    /// <summary>The IKE header's Length differs from the datagram length, or bytes follow the last payload (RFC 7296 3.1).</summary>
    LengthMismatch,

    /// <summary>Major version is not 2 (RFC 7296 2.5: answer with INVALID_MAJOR_VERSION, unprotected).</summary>
    UnsupportedMajorVersion,

    /// <summary>A generic payload header or substructure length is too small or runs past its container (RFC 7296 3.2).</summary>
    BadPayloadLength,

    /// <summary>A payload body is malformed: wrong fixed size, inconsistent counts or "last substructure" fields, bad SPI size.</summary>
    BadPayloadSyntax,

    /// <summary>Another payload follows an SK or SKF payload, which must be last (RFC 7296 3.14, RFC 7383 2.5).</summary>
    PayloadAfterEncrypted,

    /// <summary>More payloads in one chain than <see cref="IkeCodec.MaxPayloads"/>.</summary>
    TooManyPayloads,

    /// <summary>More proposals, transforms, attributes, selectors, SPIs or fragments than the codec accepts.</summary>
    LimitExceeded,

    /// <summary>A traffic selector type other than IPv4/IPv6 address range (RFC 7296 3.13.1); answer TS_UNACCEPTABLE.</summary>
    UnsupportedTrafficSelectorType,

    /// <summary>SKF Fragment Number is 0 or above Total Fragments, or Total Fragments is 0 (RFC 7383 2.6).</summary>
    BadFragmentNumber,

    /// <summary>The message has no SK payload to open.</summary>
    NotProtected,

    /// <summary>The message carries an SKF payload: feed it to <see cref="IkeFragmentReassembler"/> instead.</summary>
    Fragmented,

    /// <summary>The SK/SKF body did not verify (ICV or padding). Drop silently; no notification answers an unauthenticated message.</summary>
    IntegrityCheckFailed,
}
