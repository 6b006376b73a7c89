namespace KeyProxy.Ike.Messages;

/// <summary>Vendor ID payload (RFC 7296 3.12).</summary>
public sealed record VendorIdPayload(ReadOnlyMemory<byte> Data) : IkePayload
{
    public override PayloadType Type => PayloadType.VendorId;
}
