namespace KeyProxy.Ike.Messages;

/// <summary>Notify payload (RFC 7296 3.10).</summary>
public sealed record NotifyPayload(NotifyType NotifyType, ReadOnlyMemory<byte> Data = default) : IkePayload
{
    public override PayloadType Type => PayloadType.Notify;

    public ProtocolId Protocol { get; init; }

    /// <summary>Empty, or the SPI of the CHILD_SA concerned (REKEY_SA, ESP errors).</summary>
    public ReadOnlyMemory<byte> Spi { get; init; }
}
