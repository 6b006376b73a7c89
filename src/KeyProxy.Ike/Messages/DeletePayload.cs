namespace KeyProxy.Ike.Messages;

/// <summary>Delete payload (RFC 7296 3.11): no SPIs for the IKE SA, 4-byte SPIs for ESP/AH.</summary>
public sealed record DeletePayload(ProtocolId Protocol, IReadOnlyList<uint> Spis) : IkePayload
{
    public override PayloadType Type => PayloadType.Delete;
}
