using System.Security.Cryptography.X509Certificates;
using KeyProxy.Ike.Auth;
using KeyProxy.Ike.Protocol;
using KeyProxy.Ike.Tests.Auth;
using static KeyProxy.Ike.Tests.Protocol.TestConfigs;

namespace KeyProxy.Ike.Tests.Protocol;

/// <summary>IKE_AUTH with certificates and RFC 7427 signatures between two engines in memory.</summary>
public class CertificateExchangeTests
{
    private static readonly TestPki Pki = TestPki.Instance;

    private static IkeSessionConfig WithCertificate(IkeSessionConfig config, X509Certificate2 own, string ownDns, string peerDns, X509Certificate2 trusted) => config with
    {
        LocalIdentity = IkeIdentity.Fqdn(ownDns),
        LocalCredential = new CertificateCredential(own, own == Pki.EcP384 ? [Pki.Intermediate] : null),
        PeerAuthentication = PeerAuthentication.WithTrustAnchors([trusted]),
        RemoteIdentity = IkeIdentity.Fqdn(peerDns),
    };

    public static TheoryData<string, string> Pairs() => new()
    {
        { "ecdsa-p256", "rsa-2048" },
        { "rsa-2048", "ecdsa-p384-via-intermediate" },
        { "ecdsa-p384-via-intermediate", "ecdsa-p256" },
    };

    private static (X509Certificate2 Certificate, string Dns) Credential(string name) => name switch
    {
        "ecdsa-p256" => (Pki.EcP256, "peer256.keyproxy.test"),
        "ecdsa-p384-via-intermediate" => (Pki.EcP384, "peer384.keyproxy.test"),
        "rsa-2048" => (Pki.Rsa2048, "rsa.keyproxy.test"),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Certificates_and_signatures_authenticate_both_ways(string initiatorKey, string responderKey)
    {
        var (ic, idns) = Credential(initiatorKey);
        var (rc, rdns) = Credential(responderKey);
        var pair = new EnginePair(
            WithCertificate(Initiator(GcmX25519), ic, idns, rdns, Pki.RootCa),
            WithCertificate(Responder(GcmX25519), rc, rdns, idns, Pki.RootCa),
            start: TestPki.Now);
        pair.Start();
        pair.RunUntilQuiet();

        Assert.Equal(IkeSessionState.Established, pair.Initiator.State);
        Assert.Equal(IkeSessionState.Established, pair.Responder.State);
        Assert.Equal(rdns, Assert.Single(pair.InitiatorEvents.OfType<IkeSaEstablished>()).PeerIdentity);
        Assert.Equal(idns, Assert.Single(pair.ResponderEvents.OfType<IkeSaEstablished>()).PeerIdentity);
        IkeExchangeTests.AssertMirror(pair.Initiator.ChildSas.Single(), pair.Responder.ChildSas.Single());
    }

    [Fact]
    public void A_certificate_from_an_untrusted_ca_ends_in_authentication_failed_on_both_sides()
    {
        var pair = new EnginePair(
            WithCertificate(Initiator(GcmX25519), Pki.EcP256, "peer256.keyproxy.test", "rsa.keyproxy.test", Pki.RootCa),
            WithCertificate(Responder(GcmX25519), Pki.Rsa2048, "rsa.keyproxy.test", "peer256.keyproxy.test", Pki.OtherCa),
            start: TestPki.Now);
        pair.Start();
        pair.RunUntilQuiet();

        Assert.Equal(IkeCloseReason.AuthenticationFailed, Assert.Single(pair.InitiatorEvents.OfType<IkeSaClosed>()).Reason);
        Assert.Equal(IkeCloseReason.AuthenticationFailed, Assert.Single(pair.ResponderEvents.OfType<IkeSaClosed>()).Reason);
        Assert.Empty(pair.Initiator.ChildSas);
    }

    [Fact]
    public void An_expired_certificate_is_refused_at_the_engines_clock()
    {
        var pair = new EnginePair(
            WithCertificate(Initiator(GcmX25519), Pki.EcP256, "peer256.keyproxy.test", "rsa.keyproxy.test", Pki.RootCa),
            WithCertificate(Responder(GcmX25519), Pki.Rsa2048, "rsa.keyproxy.test", "peer256.keyproxy.test", Pki.RootCa),
            start: TestPki.EeNotAfter.AddDays(1));
        pair.Start();
        pair.RunUntilQuiet();

        Assert.Equal(IkeCloseReason.AuthenticationFailed, Assert.Single(pair.ResponderEvents.OfType<IkeSaClosed>()).Reason);
        Assert.Equal(IkeSessionState.Closed, pair.Initiator.State);
    }
}
