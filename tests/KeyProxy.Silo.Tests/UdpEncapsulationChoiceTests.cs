using System.Net;
using System.Text;
using KeyProxy.Abstractions;
using KeyProxy.Grains;

namespace KeyProxy.Silo.Tests;

/// <summary>
/// Whether a proxy session leaves its CHILD_SAs to NAT detection (plain ESP when there is no NAT, RFC 7296 2.23, RFC 3948)
/// or fakes a NAT so they are UDP-encapsulated: the handset's edge must carry plain ESP (its TUN packet path), and the
/// setting <c>Network:ForceUdpEncapsulation</c> overrides it.
/// </summary>
public sealed class UdpEncapsulationChoiceTests
{
    private static readonly ProxyCredentials Credentials = new("fqdn:alice.keyproxy.test", Encoding.UTF8.GetBytes("psk"), null, null, [],
        ["aes128gcm16-prfsha256-x25519"], ["aes128gcm16"], [ProxyCondition.AnyTraffic("198.51.100.0/24")]);

    private static HandsetBinding Handset(bool edgeCarriesPlainEsp) =>
        new("alice@keyproxy.test", "edge-a", "100.64.0.5", 7) { EdgeCarriesPlainEsp = edgeCarriesPlainEsp };

    [Theory]
    [InlineData(true, false, false)]  // TUN edge, default settings: NAT detection decides
    [InlineData(false, false, true)]  // socket edge: no way to carry IP protocol 50
    [InlineData(true, true, true)]    // forced by the settings
    [InlineData(false, true, true)]
    public void A_responder_session_forces_encapsulation_unless_its_edge_carries_plain_esp(bool edgeCarriesPlainEsp, bool forced, bool expected)
    {
        var options = new ProxyNetworkOptions { ForceUdpEncapsulation = forced };
        var config = ProxySessionConfig.ForResponder(Credentials, Handset(edgeCarriesPlainEsp), new IPEndPoint(IPAddress.Parse("198.51.100.7"), 500), options);

        Assert.NotNull(config);
        Assert.Equal(expected, config.ForceUdpEncapsulation);
        Assert.Equal(expected, ProxySessionConfig.ForcesUdpEncapsulation(Handset(edgeCarriesPlainEsp), options));
    }

    [Fact]
    public void Bindings_stored_before_the_flag_existed_mean_the_socket_path()
    {
        // A binding without the flag (an older edge, a stored row) must not promise plain ESP.
        Assert.False(new HandsetBinding("alice@keyproxy.test", "edge-a", "127.0.1.5", 7).EdgeCarriesPlainEsp);
        Assert.False(new ProxyNetworkOptions().ForceUdpEncapsulation);
    }
}
