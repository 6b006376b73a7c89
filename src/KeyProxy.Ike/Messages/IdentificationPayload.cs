namespace KeyProxy.Ike.Messages;

/// <summary>IDi or IDr payload (RFC 7296 3.5).</summary>
public sealed record IdentificationPayload(bool IsInitiator, IdType IdType, ReadOnlyMemory<byte> Data) : IkePayload
{
    public override PayloadType Type => IsInitiator ? PayloadType.IdentificationInitiator : PayloadType.IdentificationResponder;
}
