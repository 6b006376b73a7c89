namespace KeyProxy.Wire.Access;

/// <summary>Access-link message types (docs/wire.md, "Access link").</summary>
public enum AccessMessageType : byte
{
    AttachRequest = 0x01,
    AttachChallenge = 0x02,
    AttachResponse = 0x03,
    AttachAccept = 0x04,
    AttachReject = 0x05,
    Detach = 0x06,
    DetachAck = 0x07,
    EchoRequest = 0x08,
    EchoReply = 0x09,
    Data = 0x10,
    ProxyRefusal = 0x11,
}
