using System.Net;

namespace KeyProxy.Abstractions;

/// <summary>Reads peer prefixes in profiles: CIDR "192.0.2.0/24", "2001:db8::/32", or a bare address meaning one host.</summary>
public static class NetworkPrefix
{
    /// <summary>True with the network, or false with a human reason (bad address, prefix length out of range, host bits set).</summary>
    public static bool TryParse(string? text, out IPNetwork network, out string error)
    {
        network = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "is empty; expected a CIDR prefix such as '192.0.2.0/24'";
            return false;
        }

        var slash = text.IndexOf('/');
        var addressText = slash < 0 ? text : text[..slash];
        if (!IPAddress.TryParse(addressText, out var address) || addressText.Contains('%')
            || (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && addressText.Count(c => c == '.') != 3))
        {
            error = $"'{text}' is not a CIDR prefix: '{addressText}' is not an IPv4 or IPv6 address";
            return false;
        }

        var maxLength = address.GetAddressBytes().Length * 8;
        var length = maxLength;
        if (slash >= 0)
        {
            var lengthText = text[(slash + 1)..];
            if (lengthText.Length is 0 or > 3 || !lengthText.All(char.IsAsciiDigit) || (length = int.Parse(lengthText, System.Globalization.CultureInfo.InvariantCulture)) > maxLength)
            {
                error = $"'{text}' is not a CIDR prefix: the prefix length must be 0 to {maxLength}";
                return false;
            }
        }

        var bytes = address.GetAddressBytes();
        for (var bit = length; bit < maxLength; bit++)
        {
            if ((bytes[bit / 8] & (0x80 >> (bit % 8))) != 0)
            {
                error = $"'{text}' is not a CIDR prefix: the address has bits set beyond /{length}";
                return false;
            }
        }

        network = new IPNetwork(address, length);
        error = string.Empty;
        return true;
    }
}
