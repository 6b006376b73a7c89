using System.Net;
using System.Text;
using KeyProxy.Ike.Auth;
using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Messages;
using KeyProxy.Ike.Protocol;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Tests.Protocol;

/// <summary>Configurations for two engines that should agree.</summary>
public static class TestConfigs
{
    public static readonly IPEndPoint InitiatorEndpoint = new(IPAddress.Parse("127.0.0.10"), 500);
    public static readonly IPEndPoint ResponderEndpoint = new(IPAddress.Parse("127.0.0.20"), 500);
    public static readonly byte[] Psk = Encoding.ASCII.GetBytes("a shared secret of some length");

    public static readonly IkeSuite GcmX25519 = new(EncryptionAlgorithm.AesGcm16, 128, IntegrityAlgorithm.None, PrfAlgorithm.HmacSha2_256, DhGroup.Curve25519);
    public static readonly IkeSuite CbcModp2048 = new(EncryptionAlgorithm.AesCbc, 256, IntegrityAlgorithm.HmacSha2_256_128, PrfAlgorithm.HmacSha2_256, DhGroup.Modp2048);
    public static readonly EspSuite EspGcm = new(EncryptionAlgorithm.AesGcm16, 128, IntegrityAlgorithm.None, EsnMode.NoEsn);
    public static readonly EspSuite EspCbc = new(EncryptionAlgorithm.AesCbc, 128, IntegrityAlgorithm.HmacSha2_256_128, EsnMode.NoEsn);

    public static readonly TrafficSelector InitiatorNet = TrafficSelectorNarrowing.ForPrefix(IPAddress.Parse("10.1.0.0"), 16);
    public static readonly TrafficSelector ResponderNet = TrafficSelectorNarrowing.ForPrefix(IPAddress.Parse("10.2.0.0"), 16);

    public static IkeSessionConfig Initiator(IkeSuite suite, EspSuite? esp = null, byte[]? psk = null) =>
        Initiator([suite], esp is null ? [EspGcm] : [esp], psk);

    public static IkeSessionConfig Initiator(IReadOnlyList<IkeSuite> suites, IReadOnlyList<EspSuite> esp, byte[]? psk = null) => new()
    {
        LocalIdentity = IkeIdentity.Fqdn("initiator.test"),
        LocalCredential = new PreSharedKeyCredential(psk ?? Psk),
        PeerAuthentication = PeerAuthentication.WithPreSharedKey(Psk),
        RemoteIdentity = IkeIdentity.Fqdn("responder.test"),
        IkeProposals = suites,
        Child = new ChildSaConfig { Proposals = esp, LocalSelectors = [InitiatorNet], RemoteSelectors = [ResponderNet] },
        LocalEndpoint = InitiatorEndpoint,
        RemoteEndpoint = ResponderEndpoint,
    };

    public static IkeSessionConfig Responder(IkeSuite suite, EspSuite? esp = null) =>
        Responder([suite], esp is null ? [EspGcm] : [esp]);

    public static IkeSessionConfig Responder(IReadOnlyList<IkeSuite> suites, IReadOnlyList<EspSuite> esp) => new()
    {
        LocalIdentity = IkeIdentity.Fqdn("responder.test"),
        LocalCredential = new PreSharedKeyCredential(Psk),
        PeerAuthentication = PeerAuthentication.WithPreSharedKey(Psk),
        IkeProposals = suites,
        Child = new ChildSaConfig { Proposals = esp, LocalSelectors = [ResponderNet], RemoteSelectors = [InitiatorNet] },
        LocalEndpoint = ResponderEndpoint,
        RemoteEndpoint = InitiatorEndpoint,
    };
}
