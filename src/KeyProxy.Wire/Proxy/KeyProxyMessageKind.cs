namespace KeyProxy.Wire.Proxy;

/// <summary>What <see cref="KeyProxyHeader.Classify"/> found in a UDP payload.</summary>
public enum KeyProxyMessageKind : byte
{
    /// <summary>Not a KeyProxy message (IKE, ESP, anything else).</summary>
    None = 0,

    /// <summary>Key exchange proxy request (exchange type 240).</summary>
    ProxyRequest = 1,

    /// <summary>Key transfer (exchange type 241).</summary>
    KeyTransfer = 2,
}
