namespace KeyProxy.Wire;

/// <summary>
/// Why something was refused, on the wire (docs/wire.md, "Reason codes"): a <see cref="KeyProxyReason"/>
/// as u16, then a <see cref="TextField"/> a handset can show. Shared by AttachReject, ProxyRefusal and
/// the key transfer's proxy failure.
/// </summary>
internal static class ReasonField
{
    public static int Length(string text) => 2 + TextField.Length(text);

    public static WireError Validate(KeyProxyReason reason, string? text) =>
        Enum.IsDefined(reason) ? TextField.Validate(text) : WireError.BadValue;

    public static void Write(ref WireWriter writer, KeyProxyReason reason, string text)
    {
        writer.U16((ushort)reason);
        TextField.Write(ref writer, text);
    }

    public static WireError TryRead(ref WireReader reader, out KeyProxyReason reason, out string text)
    {
        text = "";
        reason = default;
        if (!reader.TryU16(out ushort code))
            return WireError.Truncated;
        if (!Enum.IsDefined((KeyProxyReason)code))
            return WireError.BadValue;
        reason = (KeyProxyReason)code;
        return TextField.TryRead(ref reader, out text);
    }
}
