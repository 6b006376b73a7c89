using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace KeyProxy.Abstractions;

/// <summary>
/// Reads the text form of an IKE identity used in profiles: a type prefix and the value (RFC 7296 3.5 ID types),
/// e.g. "fqdn:peer.example", "email:alice@example.org", "ipv4:192.0.2.1", "ipv6:2001:db8::1",
/// "dn:CN=peer, O=Example", "keyid:0a0b0c".
/// </summary>
public static class IkeIdentityText
{
    /// <summary>True with the kind and the value after the prefix, or false with a human reason.</summary>
    public static bool TryParse(string? text, out IkeIdentityKind kind, [NotNullWhen(true)] out string? value, out string error)
    {
        kind = default;
        value = null;
        if (string.IsNullOrEmpty(text))
        {
            error = "is empty; expected e.g. 'fqdn:host.example'";
            return false;
        }

        var colon = text.IndexOf(':');
        if (colon <= 0)
        {
            error = $"'{text}' has no type prefix; expected fqdn:, email:, ipv4:, ipv6:, dn: or keyid:";
            return false;
        }

        var prefix = text[..colon];
        var rest = text[(colon + 1)..];
        switch (prefix.ToLowerInvariant())
        {
            case "fqdn":
                kind = IkeIdentityKind.Fqdn;
                if (!IsPrintableAsciiWord(rest) || rest.Contains('@'))
                {
                    error = $"'{text}' is not a host name (printable ASCII, no spaces, no '@')";
                    return false;
                }

                break;
            case "email" or "rfc822":
                kind = IkeIdentityKind.Email;
                var at = rest.IndexOf('@');
                if (!IsPrintableAsciiWord(rest) || at <= 0 || at == rest.Length - 1)
                {
                    error = $"'{text}' is not an email address (user@host, printable ASCII, no spaces)";
                    return false;
                }

                break;
            case "ipv4":
                kind = IkeIdentityKind.Ipv4;
                if (!IPAddress.TryParse(rest, out var v4) || v4.AddressFamily != AddressFamily.InterNetwork || rest.Count(c => c == '.') != 3)
                {
                    error = $"'{text}' is not an IPv4 address";
                    return false;
                }

                break;
            case "ipv6":
                kind = IkeIdentityKind.Ipv6;
                if (!IPAddress.TryParse(rest, out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6)
                {
                    error = $"'{text}' is not an IPv6 address";
                    return false;
                }

                break;
            case "dn":
                kind = IkeIdentityKind.Dn;
                if (!IsDistinguishedName(rest))
                {
                    error = $"'{text}' is not a distinguished name such as 'CN=peer, O=Example'";
                    return false;
                }

                break;
            case "keyid":
                kind = IkeIdentityKind.KeyId;
                if (rest.Length == 0 || rest.Length % 2 != 0 || !rest.All(char.IsAsciiHexDigit))
                {
                    error = $"'{text}' is not a key id in hex (an even number of hex digits)";
                    return false;
                }

                break;
            default:
                error = $"'{text}' has unknown type '{prefix}'; expected fqdn:, email:, ipv4:, ipv6:, dn: or keyid:";
                return false;
        }

        value = rest;
        error = string.Empty;
        return true;
    }

    private static bool IsPrintableAsciiWord(string text)
    {
        if (text.Length == 0)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (c is < '!' or > '~')
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsDistinguishedName(string text)
    {
        if (string.IsNullOrWhiteSpace(text) || !text.Contains('='))
        {
            return false;
        }

        try
        {
            var name = new X500DistinguishedName(text);
            return name.RawData.Length > 2 && name.EnumerateRelativeDistinguishedNames().Any();
        }
        catch (CryptographicException)
        {
            return false;
        }
    }
}
