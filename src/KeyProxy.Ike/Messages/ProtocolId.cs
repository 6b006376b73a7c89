namespace KeyProxy.Ike.Messages;

/// <summary>Security protocol identifiers (RFC 7296 3.3.1).</summary>
public enum ProtocolId : byte
{
    None = 0,
    Ike = 1,
    Ah = 2,
    Esp = 3,
}
