using KeyProxy.Abstractions;

namespace KeyProxy.Silo.Tests;

public sealed class TextFormatTests
{
    [Theory]
    [InlineData("192.0.2.0/24", "192.0.2.0/24")]
    [InlineData("127.0.0.0/8", "127.0.0.0/8")]
    [InlineData("0.0.0.0/0", "0.0.0.0/0")]
    [InlineData("198.51.100.7", "198.51.100.7/32")]
    [InlineData("2001:db8::/32", "2001:db8::/32")]
    [InlineData("::1", "::1/128")]
    public void Prefixes_parse(string text, string expected)
    {
        Assert.True(NetworkPrefix.TryParse(text, out var network, out var error), error);
        Assert.Equal(expected, network.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("192.0.2.0/")]
    [InlineData("192.0.2.0/-1")]
    [InlineData("192.0.2.0/33")]
    [InlineData("192.0.2.0/24/1")]
    [InlineData("192.0.2/24")]
    [InlineData("10.0.0.1/8")]
    [InlineData("2001:db8::1/32")]
    [InlineData("fe80::1%eth0/64")]
    [InlineData("host.example")]
    public void Bad_prefixes_are_refused(string text) => Assert.False(NetworkPrefix.TryParse(text, out _, out _));

    [Theory]
    [InlineData("fqdn:peer.example", IkeIdentityKind.Fqdn, "peer.example")]
    [InlineData("FQDN:peer.example", IkeIdentityKind.Fqdn, "peer.example")]
    [InlineData("email:alice@example.org", IkeIdentityKind.Email, "alice@example.org")]
    [InlineData("rfc822:alice@example.org", IkeIdentityKind.Email, "alice@example.org")]
    [InlineData("ipv4:192.0.2.1", IkeIdentityKind.Ipv4, "192.0.2.1")]
    [InlineData("ipv6:2001:db8::1", IkeIdentityKind.Ipv6, "2001:db8::1")]
    [InlineData("dn:CN=peer, O=Example", IkeIdentityKind.Dn, "CN=peer, O=Example")]
    [InlineData("keyid:0a0B0c", IkeIdentityKind.KeyId, "0a0B0c")]
    public void Identities_parse(string text, IkeIdentityKind kind, string value)
    {
        Assert.True(IkeIdentityText.TryParse(text, out var parsedKind, out var parsedValue, out var error), error);
        Assert.Equal(kind, parsedKind);
        Assert.Equal(value, parsedValue);
    }

    [Theory]
    [InlineData("")]
    [InlineData("peer.example")]
    [InlineData(":peer.example")]
    [InlineData("fqdn:")]
    [InlineData("fqdn:has space.example")]
    [InlineData("fqdn:alice@example.org")]
    [InlineData("email:example.org")]
    [InlineData("email:@example.org")]
    [InlineData("ipv4:2001:db8::1")]
    [InlineData("ipv4:1.2.3")]
    [InlineData("ipv6:192.0.2.1")]
    [InlineData("dn:no equals sign")]
    [InlineData("keyid:abc")]
    [InlineData("keyid:zz")]
    [InlineData("uri:https://example")]
    public void Bad_identities_are_refused(string text)
    {
        Assert.False(IkeIdentityText.TryParse(text, out _, out _, out var error));
        Assert.NotEmpty(error);
    }
}
