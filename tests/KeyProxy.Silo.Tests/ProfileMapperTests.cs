using System.Text;
using KeyProxy.Abstractions;
using KeyProxy.Silo.Api;

namespace KeyProxy.Silo.Tests;

public sealed class ProfileMapperTests
{
    private static SubscriberProfileDto Dto(string secret = "text:test-subscriber-secret-0001") => new(
        null, "15550001234", secret, true,
        [new ProxyConditionDto("192.0.2.0/24", 17, 500, 4500, ["initiator", "responder"], "fqdn:peer.example")],
        "fqdn:carol.keyproxy.test",
        [new PeerPskDto("192.0.2.0/24", null, "hex:00112233445566778899aabbccddeeff")],
        null, null, null, null);

    [Theory]
    [InlineData("hex:00ff10", new byte[] { 0, 255, 16 })]
    [InlineData("hex:", new byte[0])]
    [InlineData("base64:AP8Q", new byte[] { 0, 255, 16 })]
    [InlineData("text:ab", new byte[] { 97, 98 })]
    public void Binary_values_decode(string text, byte[] expected)
    {
        Assert.True(BinaryText.TryDecode(text, out var bytes, out var error), error);
        Assert.Equal(expected, bytes);
    }

    [Theory]
    [InlineData(null, "missing")]
    [InlineData("00ff10", "no encoding prefix")]
    [InlineData("hex:0g", "not valid hex")]
    [InlineData("hex:abc", "not valid hex")]
    [InlineData("base64:***", "not valid base64")]
    public void Bad_binary_values_are_refused_without_quoting_them(string? text, string expected)
    {
        Assert.False(BinaryText.TryDecode(text, out _, out var error));
        Assert.Contains(expected, error);
        if (text is { Length: > 4 })
        {
            Assert.DoesNotContain(text[4..], error);
        }
    }

    [Fact]
    public void A_good_body_becomes_the_profile()
    {
        var (profile, errors) = ProfileMapper.ToProfile("carol@keyproxy.test", Dto());
        Assert.Empty(errors);
        Assert.Equal("carol@keyproxy.test", profile.Nai);
        Assert.Equal(Encoding.UTF8.GetBytes("test-subscriber-secret-0001"), profile.Secret);
        Assert.Equal(ProxyRoles.Initiator | ProxyRoles.Responder, profile.Conditions[0].Roles);
        Assert.Equal(16, profile.PreSharedKeys[0].Key.Length);
        Assert.Equal([SubscriberProfile.DefaultIkeProposal], profile.IkeProposals);
        Assert.Equal([SubscriberProfile.DefaultEspProposal], profile.EspProposals);
    }

    [Fact]
    public void A_field_that_fails_to_decode_is_reported_once()
    {
        var (_, errors) = ProfileMapper.ToProfile("carol@keyproxy.test", Dto(secret: "plain"));
        Assert.Equal(["secret: has no encoding prefix; expected 'hex:...', 'base64:...' or 'text:...'"], errors);
    }

    [Fact]
    public void Unknown_roles_missing_entries_and_a_different_nai_are_all_reported()
    {
        var dto = Dto() with
        {
            Nai = "dave@keyproxy.test",
            Conditions = [null, new ProxyConditionDto("192.0.2.0/24", Roles: ["listener"]), new ProxyConditionDto("10.0.0.1/8", Roles: ["initiator"])],
            PreSharedKeys = [null, new PeerPskDto("192.0.2.0/24", null, "base64:!!")],
        };
        var (_, errors) = ProfileMapper.ToProfile("carol@keyproxy.test", dto);
        Assert.Equal(
        [
            "nai: 'dave@keyproxy.test' differs from the NAI in the URL 'carol@keyproxy.test'",
            "conditions[0]: missing",
            "conditions[1].roles: unknown role 'listener' at [0]; expected \"initiator\" or \"responder\"",
            "preSharedKeys[0]: missing",
            "preSharedKeys[1].key: not valid base64 after 'base64:'",
            "conditions[2].peerPrefix: '10.0.0.1/8' is not a CIDR prefix: the address has bits set beyond /8",
        ], errors);
    }
}
