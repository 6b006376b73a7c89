using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace KeyProxy.Ike.Auth;

/// <summary>
/// The subjectAltName GeneralNames of a certificate (RFC 5280 4.2.1.6) that an IKE identity can be
/// matched against (RFC 4945 3.1): rfc822Name [1], dNSName [2], directoryName [4], iPAddress [7].
/// </summary>
internal sealed class SubjectAltNames
{
    private const string SubjectAltNameOid = "2.5.29.17";

    public List<string> DnsNames { get; } = [];
    public List<string> Rfc822Names { get; } = [];
    public List<byte[]> IPAddresses { get; } = [];
    public List<byte[]> DirectoryNames { get; } = [];

    /// <summary>Reads the extension; an absent or undecodable extension gives empty lists.</summary>
    public static SubjectAltNames Read(X509Certificate2 certificate)
    {
        var names = new SubjectAltNames();
        foreach (var extension in certificate.Extensions)
        {
            if (extension.Oid?.Value != SubjectAltNameOid)
            {
                continue;
            }

            var parsed = new SubjectAltNames();
            try
            {
                var outer = new AsnReader(extension.RawData, AsnEncodingRules.DER);
                var generalNames = outer.ReadSequence();
                while (generalNames.HasData)
                {
                    var tag = generalNames.PeekTag();
                    if (tag.TagClass != TagClass.ContextSpecific)
                    {
                        generalNames.ReadEncodedValue();
                        continue;
                    }

                    switch (tag.TagValue)
                    {
                        case 1:
                            parsed.Rfc822Names.Add(Encoding.ASCII.GetString(generalNames.ReadOctetString(new Asn1Tag(TagClass.ContextSpecific, 1))));
                            break;
                        case 2:
                            parsed.DnsNames.Add(Encoding.ASCII.GetString(generalNames.ReadOctetString(new Asn1Tag(TagClass.ContextSpecific, 2))));
                            break;
                        case 4:
                            var explicitName = generalNames.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 4, isConstructed: true));
                            parsed.DirectoryNames.Add(explicitName.ReadEncodedValue().ToArray());
                            break;
                        case 7:
                            parsed.IPAddresses.Add(generalNames.ReadOctetString(new Asn1Tag(TagClass.ContextSpecific, 7)));
                            break;
                        default:
                            generalNames.ReadEncodedValue();
                            break;
                    }
                }

                names.DnsNames.AddRange(parsed.DnsNames);
                names.Rfc822Names.AddRange(parsed.Rfc822Names);
                names.IPAddresses.AddRange(parsed.IPAddresses);
                names.DirectoryNames.AddRange(parsed.DirectoryNames);
            }
            catch (AsnContentException)
            {
                // A malformed SAN matches nothing; chain validation reports what else is wrong.
            }
        }

        return names;
    }
}
