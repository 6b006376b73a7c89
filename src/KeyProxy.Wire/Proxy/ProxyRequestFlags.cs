namespace KeyProxy.Wire.Proxy;

/// <summary>Flags of the proxy request body.</summary>
[Flags]
public enum ProxyRequestFlags : byte
{
    None = 0,

    /// <summary>The handset wants transport mode (USE_TRANSPORT_MODE, RFC 7296 1.3.1); otherwise tunnel mode.</summary>
    TransportMode = 0x01,
}
