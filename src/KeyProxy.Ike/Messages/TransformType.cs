namespace KeyProxy.Ike.Messages;

/// <summary>Transform types (RFC 7296 3.3.2); the ids of each type are in KeyProxy.Primitives (TransformIds.cs).</summary>
public enum TransformType : byte
{
    Encryption = 1,
    PseudoRandomFunction = 2,
    Integrity = 3,
    /// <summary>"Key Exchange Method" since RFC 9370.</summary>
    DiffieHellman = 4,
    ExtendedSequenceNumbers = 5,
    /// <summary>ADDITIONAL_KEY_EXCHANGE_1 (RFC 9370 2.2.2); _2 to _7 are 7 to 12.</summary>
    AdditionalKeyExchange1 = 6,
    AdditionalKeyExchange7 = 12,
}

/// <summary>Transform attribute types (RFC 7296 3.3.5).</summary>
public enum TransformAttributeType : ushort
{
    KeyLength = 14,
}
