namespace KeyProxy.Ike.Messages;

/// <summary>Transform types (RFC 7296 3.3.2); the ids of each type are in KeyProxy.Primitives (TransformIds.cs).</summary>
public enum TransformType : byte
{
    Encryption = 1,
    PseudoRandomFunction = 2,
    Integrity = 3,
    DiffieHellman = 4,
    ExtendedSequenceNumbers = 5,
}

/// <summary>Transform attribute types (RFC 7296 3.3.5).</summary>
public enum TransformAttributeType : ushort
{
    KeyLength = 14,
}
