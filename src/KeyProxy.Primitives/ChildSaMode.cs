namespace KeyProxy.Primitives;

/// <summary>Tunnel or transport mode (RFC 7296 1.3.1, USE_TRANSPORT_MODE).</summary>
public enum ChildSaMode
{
    Tunnel,
    Transport,
}
