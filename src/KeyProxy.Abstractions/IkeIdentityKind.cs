namespace KeyProxy.Abstractions;

/// <summary>The ID types (RFC 7296 3.5) a profile may name, by their text prefix.</summary>
public enum IkeIdentityKind
{
    /// <summary>"fqdn:host.example" - ID_FQDN.</summary>
    Fqdn,

    /// <summary>"email:user@host.example" - ID_RFC822_ADDR.</summary>
    Email,

    /// <summary>"ipv4:192.0.2.1" - ID_IPV4_ADDR.</summary>
    Ipv4,

    /// <summary>"ipv6:2001:db8::1" - ID_IPV6_ADDR.</summary>
    Ipv6,

    /// <summary>"dn:CN=peer, O=Example" - ID_DER_ASN1_DN.</summary>
    Dn,

    /// <summary>"keyid:0a0b0c" (hex) - ID_KEY_ID.</summary>
    KeyId,
}
