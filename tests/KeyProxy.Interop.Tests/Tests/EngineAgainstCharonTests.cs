using System.Net;
using KeyProxy.Ike.Auth;
using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Demo;
using KeyProxy.Ike.Messages;
using KeyProxy.Ike.Protocol;
using KeyProxy.Interop.Tests.Fixtures;
using KeyProxy.Primitives;

namespace KeyProxy.Interop.Tests.Tests;

/// <summary>
/// Our IKEv2 engine on real UDP sockets against a real charon on loopback: each test checks that
/// charon itself reports the SA with the SPIs our engine derived.
/// </summary>
public sealed class EngineAgainstCharonTests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static readonly IkeSuite GcmX25519 = new(EncryptionAlgorithm.AesGcm16, 128, IntegrityAlgorithm.None, PrfAlgorithm.HmacSha2_256, DhGroup.Curve25519);
    public static readonly IkeSuite CbcModp2048 = new(EncryptionAlgorithm.AesCbc, 256, IntegrityAlgorithm.HmacSha2_256_128, PrfAlgorithm.HmacSha2_256, DhGroup.Modp2048);
    private static readonly EspSuite EspGcm = new(EncryptionAlgorithm.AesGcm16, 128, IntegrityAlgorithm.None, EsnMode.NoEsn);
    private static readonly EspSuite EspCbc = new(EncryptionAlgorithm.AesCbc, 256, IntegrityAlgorithm.HmacSha2_256_128, EsnMode.NoEsn);

    /// <summary>Suite and authentication: "psk", or certificates with "ecdsa" (P-256) or "rsa" (2048) keys on both sides.</summary>
    public static TheoryData<string, string> Matrix() => new()
    {
        { "x25519-gcm", "psk" },
        { "modp2048-cbc", "psk" },
        { "x25519-gcm", "ecdsa" },
        { "modp2048-cbc", "ecdsa" },
        { "x25519-gcm", "rsa" },
    };

    private static (IkeSuite Ike, EspSuite Esp, string CharonIke, string CharonEsp) Suite(string name) => name switch
    {
        "x25519-gcm" => (GcmX25519, EspGcm, "aes128gcm16-prfsha256-x25519", "aes128gcm16"),
        "modp2048-cbc" => (CbcModp2048, EspCbc, "aes256-sha256-modp2048", "aes256-sha256"),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    internal sealed record Setup(StrongSwanPeer Charon, IkeSessionConfig Config, PortLease Ports, TestCredential? OurCredential) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Charon.DisposeAsync();
            Ports.Dispose();
            OurCredential?.Dispose();
        }
    }

    private static Task<Setup> StartCharon(string suite, string auth, bool charonInitiates)
    {
        var (ike, esp, charonIke, charonEsp) = Suite(suite);
        return StartCharon(ike, esp, charonIke, charonEsp, auth, charonInitiates, StrongSwanBuild.Debian);
    }

    /// <summary>A charon of <paramref name="build"/> with <paramref name="charonIke"/>/<paramref name="charonEsp"/>, and our engine's config to meet it with.</summary>
    internal static async Task<Setup> StartCharon(IkeSuite ike, EspSuite esp, string charonIke, string charonEsp, string auth, bool charonInitiates, StrongSwanBuild build)
    {
        var certificates = auth != "psk";
        var keyType = auth == "rsa" ? TestKeyType.Rsa2048 : TestKeyType.EcdsaP256;
        var ports = PortAllocator.AllocateBlock(2);
        var ourId = "engine.keyproxy.test";
        var options = new StrongSwanPeerOptions
        {
            IkeProposals = charonIke,
            EspProposals = charonEsp,
            Auth = certificates ? PeerAuth.PublicKey : PeerAuth.Psk,
            KeyType = keyType,
            RemoteId = ourId,
            RemoteAddress = charonInitiates ? "127.0.0.1" : "%any",
            RemotePort = charonInitiates ? ports[0] : null,
            LogKeys = true,
            Build = build,
        };
        var charon = await StrongSwanPeer.StartAsync(options, Ct);
        TestCredential? credential = null;
        IkeCredential local;
        PeerAuthentication peer;
        IkeIdentity localId;
        if (certificates)
        {
            credential = charon.Pki!.Issue(ourId, keyType);
            local = new CertificateCredential(credential.Certificate);
            peer = PeerAuthentication.WithTrustAnchors([charon.Pki.CaCertificate]);
            localId = IkeIdentity.Fqdn(ourId);
        }
        else
        {
            local = new PreSharedKeyCredential(charon.PskBytes);
            peer = PeerAuthentication.WithPreSharedKey(charon.PskBytes);
            localId = IkeIdentity.Fqdn(ourId);
        }
        var self = new IPEndPoint(IPAddress.Loopback, ports[0]);
        var config = new IkeSessionConfig
        {
            LocalIdentity = localId,
            LocalCredential = local,
            PeerAuthentication = peer,
            RemoteIdentity = IkeIdentity.Fqdn(charon.LocalId),
            IkeProposals = [ike],
            Child = new ChildSaConfig
            {
                Proposals = [esp],
                LocalSelectors = [TrafficSelectorNarrowing.ForHost(IPAddress.Loopback)],
                RemoteSelectors = [TrafficSelectorNarrowing.ForHost(IPAddress.Loopback)],
            },
            LocalEndpoint = self,
            RemoteEndpoint = charon.IkeEndPoint,
            LocalNatTraversalPort = ports[1],
            RemoteNatTraversalPort = charon.NatTPort,
        };
        return new Setup(charon, config, ports, credential);
    }

    internal static async Task<(KeyProxy.Ike.Protocol.ChildSa Ours, Fixtures.ChildSa Theirs, Fixtures.IkeSa TheirIke)> AssertCharonReports(Setup s, UdpIkeHost host, ITestOutputHelper output)
    {
        var established = await host.WaitForAsync<ChildSaEstablished>(timeout: TimeSpan.FromSeconds(20));
        var ike = await host.WaitForAsync<IkeSaEstablished>();
        var (charonIke, charonChild) = await s.Charon.WaitForChildSaAsync(c => c.SpiIn == established.ChildSa.OutboundSpi, ct: Ct);
        output.WriteLine($"ours: {established.ChildSa}\ncharon: {charonIke}\n  {charonChild}");
        Assert.Equal(ike.InitiatorSpi, charonIke.InitiatorSpi);
        Assert.Equal(ike.ResponderSpi, charonIke.ResponderSpi);
        Assert.Equal(established.ChildSa.InboundSpi, charonChild.SpiOut);
        Assert.Equal(established.ChildSa.OutboundSpi, charonChild.SpiIn);
        Assert.True(charonChild.IsInstalled);
        return (established.ChildSa, charonChild, charonIke);
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task Our_initiator_against_charon_responder(string suite, string auth)
    {
        await using var s = await StartCharon(suite, auth, charonInitiates: false);
        await using var host = UdpIkeHost.StartInitiator(s.Config);
        try
        {
            var (ours, _, charonIke) = await AssertCharonReports(s, host, output);
            Assert.Equal(Suite(suite).Ike.DhGroup == DhGroup.Curve25519 ? "CURVE_25519" : "MODP_2048", charonIke.DhGroup);
            Assert.True(ours.UdpEncapsulation); // charon's libipsec fakes a NAT, so ESP goes in UDP
        }
        catch (Exception) { output.WriteLine(s.Charon.Describe()); throw; }
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task Charon_initiator_against_our_responder(string suite, string auth)
    {
        await using var s = await StartCharon(suite, auth, charonInitiates: true);
        await using var host = UdpIkeHost.StartResponder(s.Config);
        try
        {
            await s.Charon.InitiateAsync(ct: Ct);
            await AssertCharonReports(s, host, output);
        }
        catch (Exception) { output.WriteLine(s.Charon.Describe()); throw; }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Rekeys_and_deletes_from_our_side(bool weInitiate)
    {
        await using var s = await StartCharon("x25519-gcm", auth: "psk", charonInitiates: !weInitiate);
        await using var host = weInitiate ? UdpIkeHost.StartInitiator(s.Config) : UdpIkeHost.StartResponder(s.Config);
        try
        {
            if (!weInitiate) await s.Charon.InitiateAsync(ct: Ct);
            var (ours, _, _) = await AssertCharonReports(s, host, output);

            host.Command(x => x.RekeyChildSa(ours.InboundSpi));
            var rekeyed = await host.WaitForAsync<ChildSaRekeyed>();
            await s.Charon.WaitForChildSaAsync(c => c.SpiIn == rekeyed.Replacement.OutboundSpi && c.SpiOut == rekeyed.Replacement.InboundSpi, ct: Ct);
            await s.Charon.WaitForNoChildSaAsync(c => c.SpiIn == ours.OutboundSpi, ct: Ct);

            host.Command(x => x.RekeyIkeSa());
            var ikeRekeyed = await host.WaitForAsync<IkeSaRekeyed>();
            await s.Charon.WaitForIkeSaAsync(i => i.InitiatorSpi == ikeRekeyed.InitiatorSpi && i.ResponderSpi == ikeRekeyed.ResponderSpi && i.IsEstablished, ct: Ct);
            await s.Charon.WaitForNoIkeSaAsync(i => i.InitiatorSpi == ikeRekeyed.OldInitiatorSpi, ct: Ct);

            host.Command(x => x.DeleteChildSa(rekeyed.Replacement.InboundSpi));
            await host.WaitForAsync<ChildSaDeleted>(d => d.InboundSpi == rekeyed.Replacement.InboundSpi);
            await s.Charon.WaitForNoChildSaAsync(ct: Ct);

            host.Command(x => x.Delete());
            await host.WaitForAsync<IkeSaClosed>();
            await s.Charon.WaitForNoIkeSaAsync(ct: Ct);
            // A responder keeps to the path the initiator chose (RFC 7296 2.11, 2.23): charon never saw us move.
            if (!weInitiate) Assert.DoesNotContain("remote endpoint changed", s.Charon.LogText);
        }
        catch (Exception) { output.WriteLine(s.Charon.Describe()); throw; }
    }

    [Fact]
    public async Task Rekeys_and_deletes_from_charons_side()
    {
        await using var s = await StartCharon("modp2048-cbc", auth: "psk", charonInitiates: false);
        await using var host = UdpIkeHost.StartInitiator(s.Config);
        try
        {
            var (ours, theirs, _) = await AssertCharonReports(s, host, output);

            var rekeyedTheirs = await s.Charon.RekeyChildAsync(ct: Ct);
            var rekeyed = await host.WaitForAsync<ChildSaRekeyed>();
            Assert.Equal(rekeyedTheirs.SpiIn, rekeyed.Replacement.OutboundSpi);
            await host.WaitForAsync<ChildSaDeleted>(d => d.InboundSpi == ours.InboundSpi);

            var newIke = await s.Charon.RekeyIkeAsync(ct: Ct);
            var ikeRekeyed = await host.WaitForAsync<IkeSaRekeyed>();
            Assert.Equal(newIke.InitiatorSpi, ikeRekeyed.InitiatorSpi);
            Assert.Equal(newIke.ResponderSpi, ikeRekeyed.ResponderSpi);

            await s.Charon.TerminateChildAsync(ct: Ct);
            await host.WaitForAsync<ChildSaDeleted>(d => d.InboundSpi == rekeyed.Replacement.InboundSpi && d.ByPeer);

            await s.Charon.TerminateIkeAsync(ct: Ct);
            Assert.Equal(IkeCloseReason.DeletedByPeer, (await host.WaitForAsync<IkeSaClosed>()).Reason);
            _ = theirs;
        }
        catch (Exception) { output.WriteLine(s.Charon.Describe()); throw; }
    }

    [Theory]
    [InlineData("x25519-gcm")]
    [InlineData("modp2048-cbc")]
    public async Task Capture_of_our_exchanges_decodes_and_decrypts_without_malformed_packets(string suite)
    {
        await using var s = await StartCharon(suite, auth: "psk", charonInitiates: false);
        TsharkReport report;
        await using (var capture = await TsharkCapture.StartAsync([s.Ports[0], s.Ports[1], s.Charon.IkePort, s.Charon.NatTPort], ct: Ct))
        {
            await using var host = UdpIkeHost.StartInitiator(s.Config);
            try
            {
                var (ours, _, _) = await AssertCharonReports(s, host, output);
                host.Command(x => x.RekeyChildSa(ours.InboundSpi));
                await host.WaitForAsync<ChildSaRekeyed>();
                await s.Charon.WaitForNoChildSaAsync(c => c.SpiIn == ours.OutboundSpi, ct: Ct);
                host.Command(x => x.Delete());
                await host.WaitForAsync<IkeSaClosed>();
                await s.Charon.WaitForNoIkeSaAsync(ct: Ct);
            }
            catch (Exception) { output.WriteLine(s.Charon.Describe()); throw; }
            // charon logs the IKE SA keys (LogKeys), which are the ones our engine derived: they decrypt our messages too.
            report = await capture.AnalyzeAsync(s.Charon.GetIkeKeys(), ct: Ct);
        }
        output.WriteLine(report.Summary);
        Assert.False(report.HasMalformed, report.Summary);
        Assert.Equal(["IKE_SA_INIT", "IKE_SA_INIT", "IKE_AUTH", "IKE_AUTH"], report.Exchanges.Take(4));
        Assert.Contains("CREATE_CHILD_SA", report.Exchanges);
        Assert.Contains("INFORMATIONAL", report.Exchanges);
        Assert.All(report.IkeMessages.Where(m => m.Exchange != "IKE_SA_INIT"), m => Assert.True(m.Decrypted, m.ToString()));
        var authRequest = report.IkeMessages.First(m => m.Exchange == "IKE_AUTH" && !m.IsResponse);
        Assert.True(authRequest.FromInitiator);
        Assert.Equal(s.Ports[1], authRequest.SourcePort); // our initiator moved to its NAT-T port (RFC 7296 2.23)
        foreach (var payload in new[] { "IDi", "IDr", "AUTH", "SA", "TSi", "TSr" }) Assert.Contains(payload, authRequest.Payloads);
    }
}
