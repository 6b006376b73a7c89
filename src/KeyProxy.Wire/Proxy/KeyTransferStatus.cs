namespace KeyProxy.Wire.Proxy;

/// <summary>Outcome of <see cref="KeyTransferOpener.Open"/>. Anything but <see cref="Ok"/> is dropped by the handset.</summary>
public enum KeyTransferStatus : byte
{
    Ok = 0,

    /// <summary>Not a well-formed key transfer: headers, lengths, or (after authentication) the plaintext.</summary>
    Malformed,

    /// <summary>The AES-GCM tag did not verify: wrong delivery key, or bytes changed on the way.</summary>
    AuthenticationFailed,

    /// <summary>Authentic, but the counter is not above the last accepted one.</summary>
    Replayed,
}

/// <summary>What opening a key transfer gave: the status, the counter (when authentic), the content (when Ok).</summary>
public readonly record struct KeyTransferOpenResult(KeyTransferStatus Status, ulong Counter, KeyTransferContent? Content, WireError Error)
{
    public bool IsOk => Status == KeyTransferStatus.Ok;
}
