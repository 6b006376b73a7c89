namespace KeyProxy.Ipsec.Esp;

/// <summary>Outcome of one ESP encrypt or decrypt call (RFC 4303 3.3 and 3.4). Never an exception for bad input.</summary>
public enum EspStatus
{
    /// <summary>The packet was processed.</summary>
    Ok,

    /// <summary>The destination span is shorter than needed; nothing was consumed (no sequence number, no window update).</summary>
    DestinationTooSmall,

    /// <summary>RFC 4303 3.3.3: the outbound counter would cycle; the SA must be rekeyed.</summary>
    SequenceNumberExhausted,

    /// <summary>A hard lifetime is reached (RFC 4301 4.4.2.1): the SA refuses packets.</summary>
    Expired,

    /// <summary>RFC 4303 3.4.3: duplicate, or to the left of the receive window.</summary>
    Replay,

    /// <summary>RFC 4303 3.4.4: the ICV did not verify.</summary>
    IntegrityFailure,

    /// <summary>Too short, not block aligned, or an inner packet that does not fit the mode.</summary>
    Malformed,

    /// <summary>RFC 4303 2.4: the Pad Length is too large or the padding bytes are not 1, 2, 3, ...</summary>
    BadPadding,

    /// <summary>The SPI of the packet is not this SA's (or the SAD has no SA for it).</summary>
    NoSa,

    /// <summary>RFC 4303 2.6: next header 59, a dummy packet; authenticated, counted and to be discarded.</summary>
    DummyPacket,

    /// <summary>The payload cannot be sent in this mode (tunnel mode needs an IPv4 or IPv6 packet).</summary>
    InvalidPayload,
}
