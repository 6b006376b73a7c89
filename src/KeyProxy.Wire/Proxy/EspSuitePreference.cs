using KeyProxy.Primitives;

namespace KeyProxy.Wire.Proxy;

/// <summary>
/// One ESP suite a handset can run, as it appears in the proxy request's preference list (8 bytes: encryption
/// transform id u16, key bits u16, integrity transform id u16, ESN u8, reserved u8; ids from the IKEv2 IANA registries).
/// </summary>
public readonly record struct EspSuitePreference(EncryptionAlgorithm Encryption, ushort KeyBits, IntegrityAlgorithm Integrity, EsnMode Esn)
{
    public const int Size = 8;

    public EspSuite ToEspSuite() => new(Encryption, KeyBits, Integrity, Esn);

    public static EspSuitePreference From(EspSuite suite) =>
        new(suite.Encryption, (ushort)suite.EncryptionKeyBits, suite.Integrity, suite.Esn);

    public override string ToString() => $"{Encryption}-{KeyBits}/{Integrity}/{Esn}";
}
