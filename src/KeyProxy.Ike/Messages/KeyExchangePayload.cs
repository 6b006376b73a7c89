using KeyProxy.Primitives;

namespace KeyProxy.Ike.Messages;

/// <summary>KE payload (RFC 7296 3.4).</summary>
public sealed record KeyExchangePayload(DhGroup Group, ReadOnlyMemory<byte> Data) : IkePayload
{
    public override PayloadType Type => PayloadType.KeyExchange;
}
