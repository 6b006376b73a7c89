using System.Text;

namespace KeyProxy.Silo.Api;

/// <summary>
/// Binary values in the admin API's JSON: "hex:" + hex digits, "base64:" + standard base64, or "text:" + UTF-8 text.
/// Error messages never quote the value: it is key material.
/// </summary>
public static class BinaryText
{
    public static bool TryDecode(string? text, out byte[] bytes, out string error)
    {
        bytes = [];
        error = string.Empty;
        if (text is null)
        {
            error = "missing; expected 'hex:...', 'base64:...' or 'text:...'";
            return false;
        }

        if (text.StartsWith("hex:", StringComparison.Ordinal))
        {
            try
            {
                bytes = Convert.FromHexString(text.AsSpan(4));
                return true;
            }
            catch (FormatException)
            {
                error = "not valid hex after 'hex:' (an even number of hex digits)";
                return false;
            }
        }

        if (text.StartsWith("base64:", StringComparison.Ordinal))
        {
            try
            {
                bytes = Convert.FromBase64String(text[7..]);
                return true;
            }
            catch (FormatException)
            {
                error = "not valid base64 after 'base64:'";
                return false;
            }
        }

        if (text.StartsWith("text:", StringComparison.Ordinal))
        {
            bytes = Encoding.UTF8.GetBytes(text[5..]);
            return true;
        }

        error = "has no encoding prefix; expected 'hex:...', 'base64:...' or 'text:...'";
        return false;
    }
}
