namespace KeyProxy.Ike.Messages;

/// <summary>AUTH payload (RFC 7296 3.8). For <see cref="AuthMethod.DigitalSignature"/> the data starts with the RFC 7427 3 AlgorithmIdentifier.</summary>
public sealed record AuthenticationPayload(AuthMethod Method, ReadOnlyMemory<byte> Data) : IkePayload
{
    public override PayloadType Type => PayloadType.Authentication;
}
