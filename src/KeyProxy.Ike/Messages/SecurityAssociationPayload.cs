namespace KeyProxy.Ike.Messages;

/// <summary>SA payload (RFC 7296 3.3): proposals in order of preference.</summary>
public sealed record SecurityAssociationPayload(IReadOnlyList<Proposal> Proposals) : IkePayload
{
    public override PayloadType Type => PayloadType.SecurityAssociation;
}

/// <summary>A proposal substructure (RFC 7296 3.3.1). Spi is empty for the initial IKE SA, 8 bytes for an IKE SA rekey, 4 for ESP/AH.</summary>
public sealed record Proposal(byte Number, ProtocolId Protocol, ReadOnlyMemory<byte> Spi, IReadOnlyList<Transform> Transforms);

/// <summary>
/// A transform substructure (RFC 7296 3.3.2) with its Key Length attribute (3.3.5), the only attribute defined.
/// <see cref="HasUnknownAttributes"/> is set when the peer sent another attribute: RFC 7296 3.3.6 says reject that transform.
/// </summary>
public sealed record Transform(TransformType Type, ushort Id, ushort? KeyLength = null, bool HasUnknownAttributes = false);
