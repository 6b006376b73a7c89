namespace KeyProxy.Ike.Messages;

/// <summary>Ni/Nr payload (RFC 7296 3.9): 16 to 256 bytes.</summary>
public sealed record NoncePayload(ReadOnlyMemory<byte> Nonce) : IkePayload
{
    public override PayloadType Type => PayloadType.Nonce;
}
