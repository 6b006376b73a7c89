using System.Text;
using System.Text.Json;

namespace KeyProxy.Testing;

/// <summary>
/// Every form a secret could take in a stored row (issue 16 item 4: "finds none of the secrets, in any encoding"): the
/// bytes as UTF-8 and Latin-1 text, base64 with and without padding, base64url, hex in lower and upper case, and for a
/// PEM the base64 body, whole and line by line; searched in the row's raw text and in its JSON strings unescaped.
/// </summary>
public static class SecretEncodings
{
    public static IEnumerable<(string Encoding, string Text)> Of(byte[] secret)
    {
        var base64 = Convert.ToBase64String(secret);
        yield return ("UTF-8", Encoding.UTF8.GetString(secret));
        yield return ("Latin-1", Encoding.Latin1.GetString(secret));
        yield return ("base64", base64);
        yield return ("base64 unpadded", base64.TrimEnd('='));
        yield return ("base64url", base64.TrimEnd('=').Replace('+', '-').Replace('/', '_'));
        yield return ("hex", Convert.ToHexStringLower(secret));
        yield return ("HEX", Convert.ToHexString(secret));
    }

    /// <summary>
    /// The encodings of a private key's PEM text, its base64 body whole and each body line, its DER, and for an EC key
    /// the private scalar. A body line that is also in <paramref name="publicPem"/> (the certificate) is skipped: a
    /// PKCS#8 EC key ends with its public key, which the certificate carries in the clear.
    /// </summary>
    public static IEnumerable<(string Encoding, string Text)> OfPem(string pem, string publicPem = "")
    {
        foreach (var e in Of(Encoding.UTF8.GetBytes(pem))) yield return e;
        var body = Body(pem);
        var publicBody = string.Concat(Body(publicPem));
        yield return ("PEM body", string.Concat(body));
        foreach (var (line, i) in body.Select((l, i) => (l, i)).Where(l => !publicBody.Contains(l.l, StringComparison.Ordinal))) yield return ($"PEM body line {i}", line);
        foreach (var e in Of(Convert.FromBase64String(string.Concat(body)))) yield return ("DER as " + e.Encoding, e.Text);
        byte[]? scalar = null;
        try
        {
            using var ec = System.Security.Cryptography.ECDsa.Create();
            ec.ImportFromPem(pem);
            scalar = ec.ExportParameters(includePrivateParameters: true).D;
        }
        catch (Exception e) when (e is ArgumentException or System.Security.Cryptography.CryptographicException)
        {
            // Not an EC key: its PEM and DER forms above are what is searched.
        }

        if (scalar is not null) foreach (var e in Of(scalar)) yield return ("private scalar as " + e.Encoding, e.Text);
    }

    private static List<string> Body(string pem) =>
        pem.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith("-----", StringComparison.Ordinal)).ToList();

    /// <summary>The encodings of <paramref name="secrets"/> found in <paramref name="rowText"/> (raw, and its JSON strings unescaped); empty when none.</summary>
    public static List<string> FoundIn(string rowText, IEnumerable<(string Name, IEnumerable<(string Encoding, string Text)> Forms)> secrets)
    {
        var haystacks = new[] { rowText, UnescapedStrings(rowText) };
        return secrets.SelectMany(s => s.Forms.Where(f => f.Text.Length >= 8 && haystacks.Any(h => h.Contains(f.Text, StringComparison.Ordinal)))
            .Select(f => $"{s.Name} as {f.Encoding}")).ToList();
    }

    private static string UnescapedStrings(string json)
    {
        var text = new StringBuilder();
        try
        {
            var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json));
            while (reader.Read())
            {
                if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName) text.Append(reader.GetString()).Append('\n');
            }
        }
        catch (JsonException)
        {
            // Not JSON: the raw text alone is searched.
        }

        return text.ToString();
    }
}
