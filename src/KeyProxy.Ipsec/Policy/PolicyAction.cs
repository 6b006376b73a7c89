namespace KeyProxy.Ipsec.Policy;

/// <summary>What the SPD does with matching traffic (RFC 4301 4.4.1).</summary>
public enum PolicyAction
{
    Protect,
    Bypass,
    Discard,
}
