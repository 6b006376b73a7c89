namespace KeyProxy.Abstractions;

/// <summary>Where proxy sessions activate (KeyProxy:Network:Placement).</summary>
public enum ProxySessionPlacementMode
{
    /// <summary>Spread over the cluster's silos: Diffie-Hellman is the cost.</summary>
    Spread,

    /// <summary>On the silo of the edge that starts them, for latency.</summary>
    EdgeLocal,
}
