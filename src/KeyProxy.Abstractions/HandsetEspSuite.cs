namespace KeyProxy.Abstractions;

/// <summary>
/// One ESP suite a handset said at attach it can run (docs/wire.md, AttachResponse): IANA transform ids of the
/// encryption (Transform Type 1) and integrity (Type 3, 0 for AEAD) algorithms, the key size, and whether with ESN.
/// </summary>
[GenerateSerializer, Immutable]
public readonly record struct HandsetEspSuite(
    [property: Id(0)] ushort Encryption,
    [property: Id(1)] ushort KeyBits,
    [property: Id(2)] ushort Integrity,
    [property: Id(3)] bool Esn);
