namespace KeyProxy.Wire.Proxy;

/// <summary>First byte of the key transfer plaintext.</summary>
public enum KeyTransferKind : byte
{
    SaInstall = 1,
    SaDelete = 2,
    ProxyFailure = 3,
}
