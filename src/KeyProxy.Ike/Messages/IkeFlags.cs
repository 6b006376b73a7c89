namespace KeyProxy.Ike.Messages;

/// <summary>IKE header flags (RFC 7296 3.1).</summary>
[Flags]
public enum IkeFlags : byte
{
    None = 0,
    Initiator = 0x08,
    Version = 0x10,
    Response = 0x20,
}
