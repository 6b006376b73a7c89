namespace KeyProxy.Wire.Access;

/// <summary>How a subscriber names itself at attach.</summary>
public enum IdentityType : byte
{
    /// <summary>Network Access Identifier (RFC 7542), e.g. "alice@operator.example".</summary>
    Nai = 1,

    /// <summary>E.164 number as digits (MSISDN).</summary>
    Msisdn = 2,
}
