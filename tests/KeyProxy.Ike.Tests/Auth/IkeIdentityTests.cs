using System.Formats.Asn1;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using KeyProxy.Ike.Auth;
using KeyProxy.Ike.Messages;

namespace KeyProxy.Ike.Tests.Auth;

public class IkeIdentityTests
{
    [Fact]
    public void Factories_produce_rfc7296_id_data()
    {
        Assert.Equal((IdType.Ipv4Address, "C0000201"), Shape(IkeIdentity.FromIPAddress(IPAddress.Parse("192.0.2.1"))));
        Assert.Equal(IdType.Ipv6Address, IkeIdentity.FromIPAddress(IPAddress.Parse("2001:db8::1")).Type);
        Assert.Equal(16, IkeIdentity.FromIPAddress(IPAddress.Parse("2001:db8::1")).Data.Length);
        Assert.Equal((IdType.Fqdn, Convert.ToHexString("peer.example"u8)), Shape(IkeIdentity.Fqdn("peer.example")));
        Assert.Equal((IdType.Rfc822Address, Convert.ToHexString("a@b.example"u8)), Shape(IkeIdentity.Rfc822("a@b.example")));
        Assert.Equal((IdType.KeyId, "0102"), Shape(IkeIdentity.KeyId([1, 2])));
        var dn = new X500DistinguishedName("CN=peer, O=KeyProxy");
        Assert.Equal((IdType.DerAsn1Dn, Convert.ToHexString(dn.RawData)), Shape(IkeIdentity.DistinguishedName("CN=peer, O=KeyProxy")));
        Assert.Equal(IkeIdentity.DistinguishedName(dn), IkeIdentity.DistinguishedName("CN=peer, O=KeyProxy"));
    }

    [Fact]
    public void Payload_round_trip_keeps_role_and_identity()
    {
        var identities = new[]
        {
            IkeIdentity.FromIPAddress(IPAddress.Parse("198.51.100.7")),
            IkeIdentity.FromIPAddress(IPAddress.Parse("2001:db8::7")),
            IkeIdentity.Fqdn("peer.example"),
            IkeIdentity.Rfc822("peer@example.com"),
            IkeIdentity.DistinguishedName("CN=peer, O=KeyProxy"),
            IkeIdentity.KeyId([9, 8, 7]),
        };

        foreach (var identity in identities)
        {
            var payload = identity.ToPayload(isInitiator: false);
            Assert.False(payload.IsInitiator);
            Assert.Equal(PayloadType.IdentificationResponder, payload.Type);
            Assert.Equal(identity, IkeIdentity.FromPayload(payload));
            Assert.Equal(PayloadType.IdentificationInitiator, identity.ToPayload(true).Type);
        }
    }

    [Fact]
    public void Readable_strings()
    {
        Assert.Equal("192.0.2.1", IkeIdentity.FromIPAddress(IPAddress.Parse("192.0.2.1")).ToString());
        Assert.Equal("2001:db8::1", IkeIdentity.FromIPAddress(IPAddress.Parse("2001:db8::1")).ToString());
        Assert.Equal("peer.example", IkeIdentity.Fqdn("peer.example").ToString());
        Assert.Equal("a@b.example", IkeIdentity.Rfc822("a@b.example").ToString());
        Assert.Equal("CN=peer, O=KeyProxy", IkeIdentity.DistinguishedName("CN=peer, O=KeyProxy").ToString());
        Assert.Equal("keyid:0a0b", IkeIdentity.KeyId([10, 11]).ToString());
        var hostile = IkeIdentity.FromPayload(new IdentificationPayload(true, IdType.Fqdn, "bad\nname\u001b"u8.ToArray()));
        Assert.Equal("bad\\x0aname\\x1b", hostile.ToString());
    }

    [Fact]
    public void Equality_follows_type_rules()
    {
        Assert.Equal(IkeIdentity.Fqdn("Peer.Example"), IkeIdentity.Fqdn("peer.example"));
        Assert.Equal(IkeIdentity.Fqdn("Peer.Example").GetHashCode(), IkeIdentity.Fqdn("peer.example").GetHashCode());
        Assert.NotEqual(IkeIdentity.Fqdn("peer.example"), IkeIdentity.Rfc822("peer.example"));
        Assert.NotEqual(IkeIdentity.KeyId([1]), IkeIdentity.KeyId([2]));
        Assert.True(IkeIdentity.Fqdn("a.example") != IkeIdentity.Fqdn("b.example"));

        // The same Name with PrintableString vs UTF8String values and different case: equivalent.
        var printable = IkeIdentity.FromPayload(new IdentificationPayload(true, IdType.DerAsn1Dn, Name(UniversalTagNumber.PrintableString, "KeyProxy", "peer")));
        var utf8 = IkeIdentity.FromPayload(new IdentificationPayload(true, IdType.DerAsn1Dn, Name(UniversalTagNumber.UTF8String, "keyproxy", "PEER")));
        var other = IkeIdentity.FromPayload(new IdentificationPayload(true, IdType.DerAsn1Dn, Name(UniversalTagNumber.UTF8String, "keyproxy", "other")));
        Assert.Equal(printable, utf8);
        Assert.Equal(printable.GetHashCode(), utf8.GetHashCode());
        Assert.NotEqual(printable, other);
    }

    [Theory]
    [InlineData(IdType.Ipv4Address, "0a0000")]
    [InlineData(IdType.Ipv6Address, "20010db8")]
    [InlineData(IdType.Fqdn, "")]
    [InlineData(IdType.DerAsn1Dn, "0c0470656572")]
    public void Malformed_payloads_are_refused(IdType type, string hex)
    {
        var payload = new IdentificationPayload(true, type, Convert.FromHexString(hex));

        Assert.False(IkeIdentity.TryFromPayload(payload, out var identity, out var error));
        Assert.Null(identity);
        Assert.NotEmpty(error);
        Assert.Throws<FormatException>(() => IkeIdentity.FromPayload(payload));
    }

    [Fact]
    public void Factories_validate_input()
    {
        Assert.Throws<ArgumentException>(() => IkeIdentity.Fqdn("with space.example"));
        Assert.Throws<ArgumentException>(() => IkeIdentity.Fqdn(""));
        Assert.Throws<ArgumentException>(() => IkeIdentity.KeyId([]));
    }

    private static (IdType, string) Shape(IkeIdentity identity) => (identity.Type, Convert.ToHexString(identity.Data.Span));

    // Name ::= SEQUENCE OF SET OF { type, value }: O then CN, values in the given string type.
    private static byte[] Name(UniversalTagNumber stringType, string organization, string commonName)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            foreach (var (oid, value) in new[] { ("2.5.4.10", organization), ("2.5.4.3", commonName) })
            {
                using (writer.PushSetOf())
                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier(oid);
                    writer.WriteCharacterString(stringType, value);
                }
            }
        }

        return writer.Encode();
    }
}
