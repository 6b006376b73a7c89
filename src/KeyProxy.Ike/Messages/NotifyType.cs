namespace KeyProxy.Ike.Messages;

/// <summary>Notify message types (RFC 7296 3.10.1; RFC 7383; RFC 7427). Values below 16384 are errors.</summary>
public enum NotifyType : ushort
{
    UnsupportedCriticalPayload = 1,
    InvalidIkeSpi = 4,
    InvalidMajorVersion = 5,
    InvalidSyntax = 7,
    InvalidMessageId = 9,
    InvalidSpi = 11,
    NoProposalChosen = 14,
    InvalidKePayload = 17,
    AuthenticationFailed = 24,
    SinglePairRequired = 34,
    NoAdditionalSas = 35,
    InternalAddressFailure = 36,
    FailedCpRequired = 37,
    TsUnacceptable = 38,
    InvalidSelectors = 39,
    TemporaryFailure = 43,
    /// <summary>RFC 9370 2.2.4: an IKE_FOLLOWUP_KE whose link data the responder does not know.</summary>
    StateNotFound = 47,
    ChildSaNotFound = 44,

    InitialContact = 16384,
    SetWindowSize = 16385,
    AdditionalTsPossible = 16386,
    IpcompSupported = 16387,
    NatDetectionSourceIp = 16388,
    NatDetectionDestinationIp = 16389,
    Cookie = 16390,
    UseTransportMode = 16391,
    HttpCertLookupSupported = 16392,
    RekeySa = 16393,
    EspTfcPaddingNotSupported = 16394,
    NonFirstFragmentsAlso = 16395,
    MobikeSupported = 16396,
    Ikev2FragmentationSupported = 16430,
    SignatureHashAlgorithms = 16431,
    /// <summary>RFC 9242 3.1: both sides can run IKE_INTERMEDIATE exchanges.</summary>
    IntermediateExchangeSupported = 16438,
    /// <summary>RFC 9370 2.2.4: more key exchanges follow in IKE_FOLLOWUP_KE; its data links them.</summary>
    AdditionalKeyExchange = 16441,
}

public static class NotifyTypeExtensions
{
    /// <summary>RFC 7296 3.10.1: types 0-16383 report errors.</summary>
    public static bool IsError(this NotifyType type) => (ushort)type < 16384;
}
