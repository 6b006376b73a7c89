namespace KeyProxy.Ike.Messages;

/// <summary>IKEv2 exchange types (RFC 7296 3.1; IANA "IKEv2 Exchange Types").</summary>
public enum ExchangeType : byte
{
    IkeSaInit = 34,
    IkeAuth = 35,
    CreateChildSa = 36,
    Informational = 37,
    /// <summary>RFC 9242.</summary>
    IkeIntermediate = 43,
    /// <summary>RFC 9370 2.2.4: the additional key exchanges of a CREATE_CHILD_SA.</summary>
    IkeFollowupKe = 44,
}
