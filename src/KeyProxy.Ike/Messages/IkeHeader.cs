namespace KeyProxy.Ike.Messages;

/// <summary>The fixed 28-byte IKE header (RFC 7296 3.1).</summary>
public readonly record struct IkeHeader(
    ulong InitiatorSpi,
    ulong ResponderSpi,
    PayloadType NextPayload,
    ExchangeType Exchange,
    IkeFlags Flags,
    uint MessageId,
    uint Length)
{
    public const int Size = 28;

    /// <summary>Where the Exchange Type octet sits in the header (RFC 7296 3.1).</summary>
    public const int ExchangeTypeOffset = 18;

    /// <summary>Major version 2, minor version 0.</summary>
    public const byte Version2 = 0x20;

    public bool IsResponse => (Flags & IkeFlags.Response) != 0;

    public bool IsFromInitiator => (Flags & IkeFlags.Initiator) != 0;
}
