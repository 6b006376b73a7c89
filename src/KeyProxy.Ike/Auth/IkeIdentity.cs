using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using KeyProxy.Ike.Messages;

namespace KeyProxy.Ike.Auth;

/// <summary>
/// An IKE identity: the Identification Data of an IDi/IDr payload with its type (RFC 7296 3.5).
/// Immutable. Equality follows the type's matching rules: FQDN and RFC822 compare case-insensitively
/// (ASCII), DER_ASN1_DN compares as a Name (RFC 5280 7.1: same RDNs, string values case-folded),
/// everything else byte for byte.
/// </summary>
public sealed class IkeIdentity : IEquatable<IkeIdentity>
{
    private readonly byte[] _data;
    private string? _canonical;

    private IkeIdentity(IdType type, byte[] data)
    {
        Type = type;
        _data = data;
    }

    public IdType Type { get; }

    /// <summary>The Identification Data field, without the type and RESERVED octets.</summary>
    public ReadOnlyMemory<byte> Data => _data;

    /// <summary>ID_IPV4_ADDR (4 octets) or ID_IPV6_ADDR (16 octets), by the address family.</summary>
    public static IkeIdentity FromIPAddress(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return address.AddressFamily switch
        {
            AddressFamily.InterNetwork => new IkeIdentity(IdType.Ipv4Address, address.GetAddressBytes()),
            AddressFamily.InterNetworkV6 => new IkeIdentity(IdType.Ipv6Address, address.GetAddressBytes()),
            _ => throw new ArgumentException($"not an IPv4 or IPv6 address: {address.AddressFamily}", nameof(address)),
        };
    }

    /// <summary>ID_FQDN: the name as octets, no terminator (RFC 7296 3.5).</summary>
    public static IkeIdentity Fqdn(string fqdn) => new(IdType.Fqdn, AsciiText(fqdn, nameof(fqdn)));

    /// <summary>ID_RFC822_ADDR: an email address as octets, no terminator (RFC 7296 3.5).</summary>
    public static IkeIdentity Rfc822(string address) => new(IdType.Rfc822Address, AsciiText(address, nameof(address)));

    /// <summary>ID_DER_ASN1_DN: the DER Name (RFC 7296 3.5).</summary>
    public static IkeIdentity DistinguishedName(X500DistinguishedName name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return new IkeIdentity(IdType.DerAsn1Dn, name.RawData.ToArray());
    }

    /// <summary>ID_DER_ASN1_DN from text such as "CN=peer, O=KeyProxy", encoded as .NET (and <see cref="CertificateRequest"/>) encode it.</summary>
    public static IkeIdentity DistinguishedName(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return DistinguishedName(new X500DistinguishedName(name));
    }

    /// <summary>ID_DER_ASN1_DN of a certificate's subject.</summary>
    public static IkeIdentity FromCertificateSubject(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return DistinguishedName(certificate.SubjectName);
    }

    /// <summary>ID_KEY_ID: opaque octets (RFC 7296 3.5).</summary>
    public static IkeIdentity KeyId(ReadOnlySpan<byte> keyId)
    {
        if (keyId.IsEmpty)
        {
            throw new ArgumentException("KEY_ID must not be empty", nameof(keyId));
        }

        return new IkeIdentity(IdType.KeyId, keyId.ToArray());
    }

    /// <summary>The IDi (<paramref name="isInitiator"/>) or IDr payload carrying this identity.</summary>
    public IdentificationPayload ToPayload(bool isInitiator) => new(isInitiator, Type, _data);

    /// <summary>The identity in a received ID payload. Throws <see cref="FormatException"/> when the data does not fit its type.</summary>
    public static IkeIdentity FromPayload(IdentificationPayload payload) =>
        TryFromPayload(payload, out var identity, out var error) ? identity : throw new FormatException(error);

    /// <summary>
    /// The identity in a received ID payload; false, with a human reason, when the data does not fit
    /// its type (address lengths, an undecodable DN, empty data). Unknown types are kept as opaque octets.
    /// </summary>
    public static bool TryFromPayload(IdentificationPayload payload, [NotNullWhen(true)] out IkeIdentity? identity, out string error)
    {
        ArgumentNullException.ThrowIfNull(payload);
        identity = null;
        var data = payload.Data.Span;
        error = payload.IdType switch
        {
            _ when data.IsEmpty => $"empty {payload.IdType} identification data",
            IdType.Ipv4Address when data.Length != 4 => $"ID_IPV4_ADDR of {data.Length} octets",
            IdType.Ipv6Address when data.Length != 16 => $"ID_IPV6_ADDR of {data.Length} octets",
            IdType.DerAsn1Dn when DistinguishedNames.Normalize(data) is null => "ID_DER_ASN1_DN that is not a DER Name",
            _ => string.Empty,
        };
        if (error.Length != 0)
        {
            return false;
        }

        identity = new IkeIdentity(payload.IdType, data.ToArray());
        return true;
    }

    public bool Equals(IkeIdentity? other) =>
        other is not null && Type == other.Type && (ReferenceEquals(this, other) || Canonical == other.Canonical);

    public override bool Equals(object? obj) => Equals(obj as IkeIdentity);

    public override int GetHashCode() => HashCode.Combine(Type, Canonical);

    public static bool operator ==(IkeIdentity? left, IkeIdentity? right) => left is null ? right is null : left.Equals(right);

    public static bool operator !=(IkeIdentity? left, IkeIdentity? right) => !(left == right);

    /// <summary>A readable form for logs and errors; non-printable octets are escaped. IDs are not secrets.</summary>
    public override string ToString() => Type switch
    {
        IdType.Ipv4Address or IdType.Ipv6Address => new IPAddress(_data).ToString(),
        IdType.Fqdn or IdType.Rfc822Address => Escape(_data),
        IdType.DerAsn1Dn => DistinguishedNames.Format(_data),
        IdType.KeyId => "keyid:" + Hex(_data),
        _ => $"{Type}:{Hex(_data)}",
    };

    private string Canonical => _canonical ??= Type switch
    {
        IdType.Fqdn or IdType.Rfc822Address => Convert.ToHexString(AsciiLower(_data)),
        IdType.DerAsn1Dn => DistinguishedNames.Normalize(_data) ?? Convert.ToHexString(_data),
        _ => Convert.ToHexString(_data),
    };

    private static byte[] AsciiText(string text, string parameterName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text, parameterName);
        foreach (var c in text)
        {
            if (c is < '!' or > '~')
            {
                throw new ArgumentException("identity text must be printable ASCII without spaces", parameterName);
            }
        }

        return Encoding.ASCII.GetBytes(text);
    }

    private static byte[] AsciiLower(byte[] data)
    {
        var lower = data.ToArray();
        for (var i = 0; i < lower.Length; i++)
        {
            if (lower[i] is >= (byte)'A' and <= (byte)'Z')
            {
                lower[i] += 'a' - 'A';
            }
        }

        return lower;
    }

    private static string Escape(byte[] data)
    {
        var sb = new StringBuilder(data.Length);
        foreach (var b in data)
        {
            if (b is >= 0x20 and < 0x7f and not (byte)'\\')
            {
                sb.Append((char)b);
            }
            else
            {
                sb.Append("\\x").Append(b.ToString("x2"));
            }
        }

        return sb.ToString();
    }

    private static string Hex(byte[] data) =>
        data.Length <= 32 ? Convert.ToHexString(data).ToLowerInvariant() : Convert.ToHexString(data, 0, 32).ToLowerInvariant() + "...";
}
