using System.Net;
using KeyProxy.Edge.Routing;
using Xunit;

namespace KeyProxy.Edge.Tests;

public sealed class PeerEndpointsTests
{
    [Theory]
    [InlineData("198.51.100.7", 4500)]
    [InlineData("2001:db8::7", 500)]
    [InlineData("::ffff:198.51.100.7", 4500)]
    public void A_received_endpoint_is_made_once_and_reads_as_the_runtime_makes_it(string address, int port)
    {
        var peers = new PeerEndpoints();
        var socketAddress = new IPEndPoint(IPAddress.Parse(address), port).Serialize();
        var expected = (IPEndPoint)new IPEndPoint(IPAddress.Any, 0).Create(socketAddress);

        var first = peers.From(socketAddress);
        var again = peers.From(new IPEndPoint(IPAddress.Parse(address), port).Serialize());

        Assert.Equal(expected, first.Endpoint);
        Assert.Equal(expected.Address.ToString(), first.Text);
        Assert.Same(first, again);
    }

    [Fact]
    public void A_scoped_IPv6_endpoint_keeps_its_scope_and_is_not_shared()
    {
        var peers = new PeerEndpoints();
        var scoped = new IPEndPoint(IPAddress.Parse("fe80::7%3"), 500);

        var first = peers.From(scoped.Serialize());

        Assert.Equal(scoped, first.Endpoint);
        Assert.Equal("fe80::7%3", first.Text);
        Assert.NotSame(first, peers.From(scoped.Serialize()));
    }

    [Fact]
    public void A_peer_address_is_formatted_once()
    {
        var peers = new PeerEndpoints();
        var address = KeyProxy.Wire.Ip.IpAddressValue.FromIPAddress(IPAddress.Parse("2001:db8::9"));

        var text = peers.Text(address);

        Assert.Equal("2001:db8::9", text);
        Assert.Same(text, peers.Text(address));
    }

    [Fact]
    public void An_endpoint_to_send_to_is_parsed_once_and_bad_text_throws_as_Parse_does()
    {
        var peers = new PeerEndpoints();

        var first = peers.To("203.0.113.9", 500);

        Assert.Equal(new IPEndPoint(IPAddress.Parse("203.0.113.9"), 500), first);
        Assert.Same(first, peers.To("203.0.113.9", 500));
        Assert.NotSame(first, peers.To("203.0.113.9", 4500));
        Assert.Throws<FormatException>(() => peers.To("not an address", 500));
    }
}
