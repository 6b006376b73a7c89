using System.Text;
using KeyProxy.Abstractions;

namespace KeyProxy.Silo.Tests;

public sealed class SubscriberProfileValidatorTests
{
    private static readonly SubscriberProfile Good = TestProfiles.Valid();

    public static TheoryData<string, string> Mutations => new()
    {
        { "empty nai", "nai: is empty" },
        { "nai without realm dot", "nai: 'carol@localhost' has realm" },
        { "nai with two @", "nai: 'a@b@keyproxy.test' is not user@realm" },
        { "nai with space", "nai: 'ca rol@keyproxy.test' has a user name with a space" },
        { "nai with bad label", "nai: 'carol@-bad.test' has realm" },
        { "msisdn with plus", "msisdn: '+15550001234' is not an MSISDN" },
        { "msisdn too short", "msisdn: '1234' is not an MSISDN" },
        { "secret too short", "secret: 15 bytes is too short; at least 16 bytes" },
        { "secret missing", "secret: 0 bytes is too short" },
        { "condition bad cidr", "conditions[0].peerPrefix: '192.0.2.0/33' is not a CIDR prefix" },
        { "condition host bits", "conditions[0].peerPrefix: '192.0.2.1/24' is not a CIDR prefix: the address has bits set beyond /24" },
        { "condition not an address", "conditions[0].peerPrefix: 'peer.example/24' is not a CIDR prefix" },
        { "condition ports reversed", "conditions[0]: startPort 4500 is above endPort 500" },
        { "condition no roles", "conditions[0].roles: no role" },
        { "condition unknown role bits", "conditions[0].roles: unknown role bits 6" },
        { "condition bad peer identity", "conditions[0].peerIdentity: 'peer.example' has no type prefix" },
        { "ike identity unknown type", "ikeIdentity: 'x500:carol' has unknown type 'x500'" },
        { "ike identity missing with proxy service", "ikeIdentity: is empty" },
        { "ike identity bad ipv4", "ikeIdentity: 'ipv4:192.0.2' is not an IPv4 address" },
        { "psk too short", "preSharedKeys[0].key: 15 bytes is too short; at least 16 bytes" },
        { "psk bad prefix", "preSharedKeys[0].peerPrefix: '2001:db8::1/129' is not a CIDR prefix" },
        { "psk bad peer identity", "preSharedKeys[0].peerIdentity: 'email:nobody' is not an email address" },
        { "proxy service without credential", "proxyService: the proxy service needs a credential" },
        { "certificate garbage", "certificate.certificatePem: does not hold a PEM certificate that loads" },
        { "certificate key of another certificate", "certificate.privateKeyPem: not an unencrypted PEM private key" },
        { "certificate key garbage", "certificate.privateKeyPem: not an unencrypted PEM private key" },
        { "trusted ca garbage", "trustedCaPems[1]: does not hold a PEM certificate that loads" },
        { "ike proposal without group", "ikeProposals[0]: 'aes128gcm16-prfsha256' names no DH group" },
        { "ike proposal unknown token", "ikeProposals[1]: unknown algorithm '3des' in '3des-sha1-modp1024'" },
        { "ike proposals empty", "ikeProposals: at least one proposal" },
        { "esp proposal with prf", "espProposals[0]: 'aes128gcm16-prfsha256' names a PRF" },
        { "esp cbc without integrity", "espProposals[0]: 'aes256' names no integrity algorithm" },
        { "esp gcm with integrity", "espProposals[0]: 'aes128gcm16-sha256' combines AES-GCM with an integrity algorithm" },
        { "esp two encryptions", "espProposals[0]: 'aes128gcm16-aes256gcm16' names more than one encryption algorithm" },
    };

    [Fact]
    public void A_valid_profile_has_no_errors() => Assert.Empty(SubscriberProfileValidator.Validate(Good));

    [Fact]
    public void Every_demo_subscriber_is_valid()
    {
        foreach (var profile in DemoSubscribers.All)
        {
            Assert.Empty(SubscriberProfileValidator.Validate(profile));
        }
    }

    [Fact]
    public void A_certificate_with_its_key_and_a_trusted_ca_are_accepted()
    {
        var (cert, key) = TestProfiles.SelfSigned();
        var (ca, _) = TestProfiles.SelfSigned("CN=KeyProxy Test CA");
        var profile = Good with { PreSharedKeys = [], Certificate = new IkeCertificateCredential(cert, key), TrustedCaPems = [ca] };
        Assert.Empty(SubscriberProfileValidator.Validate(profile));
    }

    [Fact]
    public void A_subscriber_without_proxy_service_needs_no_ike_identity_or_credential()
    {
        var profile = Good with { ProxyService = false, IkeIdentity = "", PreSharedKeys = [], Conditions = [] };
        Assert.Empty(SubscriberProfileValidator.Validate(profile));
    }

    [Theory]
    [MemberData(nameof(Mutations))]
    public void Each_rule_reports_its_error(string mutation, string expected)
    {
        var errors = SubscriberProfileValidator.Validate(Mutate(mutation));
        Assert.Contains(errors, e => e.StartsWith(expected, StringComparison.Ordinal));
        Assert.Single(errors);
    }

    [Fact]
    public void Every_error_is_listed_at_once()
    {
        var profile = Good with
        {
            Nai = "nobody",
            Msisdn = "abc",
            Secret = [1, 2, 3],
            Conditions = [new ProxyCondition("10.0.0.0/8", 0, 9, 1, ProxyRoles.None)],
            IkeProposals = ["rot13"],
        };
        var errors = SubscriberProfileValidator.Validate(profile);
        Assert.Equal(6, errors.Count);
    }

    [Fact]
    public void A_missing_profile_is_an_error() => Assert.Equal(["profile: missing"], SubscriberProfileValidator.Validate(null));

    [Fact]
    public void Errors_never_quote_key_material()
    {
        var (cert, _) = TestProfiles.SelfSigned();
        var profile = Good with
        {
            Secret = Encoding.UTF8.GetBytes("short-secret"),
            PreSharedKeys = [new PeerPsk("192.0.2.0/24", null, Encoding.UTF8.GetBytes("tiny-psk"))],
            Certificate = new IkeCertificateCredential(cert, "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcw==\n-----END PRIVATE KEY-----"),
        };
        var text = string.Join("\n", SubscriberProfileValidator.Validate(profile));
        Assert.DoesNotContain("short-secret", text);
        Assert.DoesNotContain("tiny-psk", text);
        Assert.DoesNotContain("c2VjcmV0LWtleS1ieXRlcw", text);
    }

    [Fact]
    public void ToString_shows_no_key_material()
    {
        var (cert, key) = TestProfiles.SelfSigned();
        var profile = Good with { Certificate = new IkeCertificateCredential(cert, key) };
        var text = profile.ToString() + profile.PreSharedKeys[0] + profile.Certificate;
        Assert.Contains("carol@keyproxy.test", text);
        Assert.DoesNotContain("test-subscriber-secret", text);
        Assert.DoesNotContain("a-sixteen-byte-psk", text);
        Assert.DoesNotContain(Convert.ToHexString(TestProfiles.Secret), text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("PRIVATE KEY", text);
        Assert.DoesNotContain(key.Split('\n')[1], text);
    }

    private static SubscriberProfile Mutate(string mutation)
    {
        var condition = Good.Conditions[0];
        var psk = Good.PreSharedKeys[0];
        var (cert, key) = TestProfiles.SelfSigned();
        var (_, otherKey) = TestProfiles.SelfSigned("CN=other");
        var certProfile = Good with { PreSharedKeys = [] };
        return mutation switch
        {
            "empty nai" => Good with { Nai = "" },
            "nai without realm dot" => Good with { Nai = "carol@localhost" },
            "nai with two @" => Good with { Nai = "a@b@keyproxy.test" },
            "nai with space" => Good with { Nai = "ca rol@keyproxy.test" },
            "nai with bad label" => Good with { Nai = "carol@-bad.test" },
            "msisdn with plus" => Good with { Msisdn = "+15550001234" },
            "msisdn too short" => Good with { Msisdn = "1234" },
            "secret too short" => Good with { Secret = new byte[15] },
            "secret missing" => Good with { Secret = [] },
            "condition bad cidr" => Good with { Conditions = [condition with { PeerPrefix = "192.0.2.0/33" }] },
            "condition host bits" => Good with { Conditions = [condition with { PeerPrefix = "192.0.2.1/24" }] },
            "condition not an address" => Good with { Conditions = [condition with { PeerPrefix = "peer.example/24" }] },
            "condition ports reversed" => Good with { Conditions = [condition with { StartPort = 4500, EndPort = 500 }] },
            "condition no roles" => Good with { Conditions = [condition with { Roles = ProxyRoles.None }] },
            "condition unknown role bits" => Good with { Conditions = [condition with { Roles = (ProxyRoles)6 }] },
            "condition bad peer identity" => Good with { Conditions = [condition with { PeerIdentity = "peer.example" }] },
            "ike identity unknown type" => Good with { IkeIdentity = "x500:carol" },
            "ike identity missing with proxy service" => Good with { IkeIdentity = "" },
            "ike identity bad ipv4" => Good with { IkeIdentity = "ipv4:192.0.2" },
            "psk too short" => Good with { PreSharedKeys = [psk with { Key = new byte[15] }] },
            "psk bad prefix" => Good with { PreSharedKeys = [psk with { PeerPrefix = "2001:db8::1/129" }] },
            "psk bad peer identity" => Good with { PreSharedKeys = [psk with { PeerIdentity = "email:nobody" }] },
            "proxy service without credential" => Good with { PreSharedKeys = [] },
            "certificate garbage" => certProfile with { Certificate = new IkeCertificateCredential("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----", key) },
            "certificate key of another certificate" => certProfile with { Certificate = new IkeCertificateCredential(cert, otherKey) },
            "certificate key garbage" => certProfile with { Certificate = new IkeCertificateCredential(cert, "not a key") },
            "trusted ca garbage" => Good with { TrustedCaPems = [cert, "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----"] },
            "ike proposal without group" => Good with { IkeProposals = ["aes128gcm16-prfsha256"] },
            "ike proposal unknown token" => Good with { IkeProposals = ["aes256-sha256-ecp256", "3des-sha1-modp1024"] },
            "ike proposals empty" => Good with { IkeProposals = [] },
            "esp proposal with prf" => Good with { EspProposals = ["aes128gcm16-prfsha256"] },
            "esp cbc without integrity" => Good with { EspProposals = ["aes256"] },
            "esp gcm with integrity" => Good with { EspProposals = ["aes128gcm16-sha256"] },
            "esp two encryptions" => Good with { EspProposals = ["aes128gcm16-aes256gcm16"] },
            _ => throw new ArgumentException(mutation),
        };
    }
}
