using System.Text;

namespace KeyProxy.Wire.Access;

/// <summary>
/// A subscriber identity: type, then 1 to 255 bytes of UTF-8. Encoded as type (u8), length (u8), bytes, the same
/// in AttachRequest, AttachResponse, the attach proof and the delivery key's HKDF info.
/// </summary>
public sealed record SubscriberIdentity(IdentityType Type, string Value)
{
    public const int MaxBytes = 255;

    public int GetEncodedLength() => 2 + Encoding.UTF8.GetByteCount(Value);

    public WireError Validate()
    {
        if (Type is not (IdentityType.Nai or IdentityType.Msisdn))
            return WireError.BadValue;
        var error = TextField.Validate(Value);
        if (error != WireError.None)
            return error;
        int count = Encoding.UTF8.GetByteCount(Value);
        return count == 0 ? WireError.BadText : count > MaxBytes ? WireError.LimitExceeded : WireError.None;
    }

    /// <summary>Writes type, length and UTF-8 bytes; returns the count. The identity must validate.</summary>
    public int WriteTo(Span<byte> destination)
    {
        int n = Encoding.UTF8.GetBytes(Value, destination[2..]);
        destination[0] = (byte)Type;
        destination[1] = (byte)n;
        return 2 + n;
    }

    internal void Write(ref WireWriter writer) => writer.Skip(WriteTo(writer.Rest));

    internal static WireError TryRead(ref WireReader reader, out SubscriberIdentity? identity)
    {
        identity = null;
        if (!reader.TryU8(out byte type) || !reader.TryU8(out byte length))
            return WireError.Truncated;
        if (type is not ((byte)IdentityType.Nai or (byte)IdentityType.Msisdn))
            return WireError.BadValue;
        if (length == 0)
            return WireError.BadText;
        if (!reader.TryBytes(length, out var bytes))
            return WireError.Truncated;
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
            return WireError.BadText;
        identity = new SubscriberIdentity((IdentityType)type, Encoding.UTF8.GetString(bytes));
        return WireError.None;
    }

    public override string ToString() => $"{Type}:{Value}";
}
