namespace KeyProxy.Ike.Messages;

/// <summary>IKEv2 exchange types (RFC 7296 3.1; IANA "IKEv2 Exchange Types").</summary>
public enum ExchangeType : byte
{
    IkeSaInit = 34,
    IkeAuth = 35,
    CreateChildSa = 36,
    Informational = 37,

    /// <summary>Private use: KeyProxy key exchange proxy request, handset to edge (seed S21).</summary>
    KeyProxyRequest = 240,

    /// <summary>Private use: KeyProxy key transfer, proxy to handset (seed claim 1).</summary>
    KeyTransfer = 241,
}
