using System.Text;
using System.Text.Unicode;

namespace KeyProxy.Wire;

/// <summary>Human-readable text on the wire: u16 length then strict UTF-8, at most <see cref="MaxBytes"/> bytes.</summary>
internal static class TextField
{
    public const int MaxBytes = 1024;

    public static int Length(string text) => 2 + Encoding.UTF8.GetByteCount(text);

    public static WireError Validate(string? text)
    {
        if (text is null)
            return WireError.BadText;
        int count;
        try
        {
            count = new UTF8Encoding(false, true).GetByteCount(text);
        }
        catch (ArgumentException)
        {
            return WireError.BadText; // lone surrogates
        }

        return count > MaxBytes ? WireError.LimitExceeded : WireError.None;
    }

    public static void Write(ref WireWriter writer, string text)
    {
        int n = Encoding.UTF8.GetBytes(text, writer.Rest[2..]);
        writer.U16((ushort)n);
        writer.Skip(n);
    }

    public static WireError TryRead(ref WireReader reader, out string text)
    {
        text = "";
        if (!reader.TryU16(out ushort length))
            return WireError.Truncated;
        if (length > MaxBytes)
            return WireError.LimitExceeded;
        if (!reader.TryBytes(length, out var bytes))
            return WireError.Truncated;
        if (!Utf8.IsValid(bytes))
            return WireError.BadText;
        text = Encoding.UTF8.GetString(bytes);
        return WireError.None;
    }
}
