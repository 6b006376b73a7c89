using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace KeyProxy.Ike.Auth;

/// <summary>
/// Comparison of DER Names (RFC 5280 4.1.2.4, 7.1): equal when the bytes are equal, or when both
/// have the same RDNs in the same order with the same attribute types and values that match after
/// case folding and whitespace compression of string values (so a PrintableString "KeyProxy" from
/// one encoder equals a UTF8String "keyproxy" from another).
/// </summary>
internal static class DistinguishedNames
{
    public static bool AreEquivalent(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        if (a.SequenceEqual(b))
        {
            return true;
        }

        var na = Normalize(a);
        return na is not null && na == Normalize(b);
    }

    /// <summary>A canonical text of the Name, or null when the bytes are not a DER Name.</summary>
    public static string? Normalize(ReadOnlySpan<byte> der)
    {
        try
        {
            var outer = new AsnReader(der.ToArray(), AsnEncodingRules.BER);
            var rdnSequence = outer.ReadSequence();
            if (outer.HasData)
            {
                return null;
            }

            var text = new StringBuilder();
            while (rdnSequence.HasData)
            {
                var set = rdnSequence.ReadSetOf(skipSortOrderValidation: true);
                var attributes = new List<string>();
                while (set.HasData)
                {
                    var attribute = set.ReadSequence();
                    var type = attribute.ReadObjectIdentifier();
                    var value = NormalizeValue(attribute.ReadEncodedValue());
                    if (attribute.HasData)
                    {
                        return null;
                    }

                    attributes.Add(type + "=" + value);
                }

                // Within one RDN the order of attributes carries no meaning.
                attributes.Sort(StringComparer.Ordinal);
                text.Append('/').Append(string.Join("+", attributes));
            }

            return text.ToString();
        }
        catch (AsnContentException)
        {
            return null;
        }
    }

    /// <summary>The readable RFC 4514-like form used in logs; never throws.</summary>
    public static string Format(ReadOnlySpan<byte> der)
    {
        try
        {
            // Name: most specific RDN first, ", " separated, as X509Certificate2.Subject prints it.
            var text = new X500DistinguishedName(der).Name;
            return string.IsNullOrEmpty(text) ? "<empty DN>" : text;
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return "<malformed DN " + Convert.ToHexString(der[..Math.Min(der.Length, 16)]) + ">";
        }
    }

    private static string NormalizeValue(ReadOnlyMemory<byte> encoded)
    {
        var reader = new AsnReader(encoded, AsnEncodingRules.BER);
        var tag = reader.PeekTag();
        if (tag.TagClass == TagClass.Universal && tag.TagValue is
                (int)UniversalTagNumber.UTF8String or (int)UniversalTagNumber.PrintableString or
                (int)UniversalTagNumber.IA5String or (int)UniversalTagNumber.BMPString or
                (int)UniversalTagNumber.VisibleString or (int)UniversalTagNumber.NumericString or
                (int)UniversalTagNumber.T61String)
        {
            try
            {
                return "s:" + Fold(reader.ReadCharacterString((UniversalTagNumber)tag.TagValue));
            }
            catch (AsnContentException)
            {
                // Not decodable as its declared type: compare the encoding instead.
            }
        }

        return "x:" + Convert.ToHexString(encoded.Span);
    }

    // RFC 5280 7.1 / RFC 4518: case-insensitive, leading/trailing space removed, inner runs of space collapsed.
    private static string Fold(string value)
    {
        var sb = new StringBuilder(value.Length);
        var pendingSpace = false;
        foreach (var c in value.Trim())
        {
            if (char.IsWhiteSpace(c))
            {
                pendingSpace = true;
                continue;
            }

            if (pendingSpace)
            {
                sb.Append(' ');
                pendingSpace = false;
            }

            sb.Append(char.ToUpperInvariant(c));
        }

        return sb.ToString();
    }
}
