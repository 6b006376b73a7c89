namespace KeyProxy.Abstractions;

/// <summary>Which side of an IKE SA the proxy may take for a subscriber (seed claims 1-3: handset- or peer-initiated).</summary>
[Flags]
[GenerateSerializer]
public enum ProxyRoles
{
    None = 0,

    /// <summary>The proxy starts IKE towards the peer when the handset sends a key exchange proxy request.</summary>
    Initiator = 1,

    /// <summary>The proxy answers IKE that a peer starts towards the handset's address.</summary>
    Responder = 2,
}
