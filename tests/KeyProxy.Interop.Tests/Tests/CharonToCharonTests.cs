using KeyProxy.Interop.Tests.Fixtures;

namespace KeyProxy.Interop.Tests.Tests;

/// <summary>
/// Two real charons on loopback: proves the fixtures (StrongSwanPeer, TsharkCapture, TestPki,
/// PortAllocator) before our own engine takes one side.
/// </summary>
public sealed class CharonToCharonTests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static (StrongSwanPeerOptions Responder, Func<StrongSwanPeer, StrongSwanPeerOptions> Initiator) Pair(StrongSwanPeerOptions common) =>
        (common with { ConnectionName = "resp" },
         responder => common with
         {
             ConnectionName = "init",
             RemoteAddress = responder.Address.ToString(),
             RemotePort = responder.IkePort,
             RemoteId = responder.LocalId,
         });

    [Fact]
    public async Task Psk_establish_rekey_terminate_and_capture_decodes_cleanly()
    {
        var (respOptions, initOptions) = Pair(new StrongSwanPeerOptions { LogKeys = true, EspProposals = "aes128gcm16-x25519" });
        int initPid, respPid;
        string initDir, respDir;
        TsharkReport report;
        {
            await using var responder = await StrongSwanPeer.StartAsync(respOptions, Ct);
            await using var initiator = await StrongSwanPeer.StartAsync(initOptions(responder), Ct);
            Assert.NotEqual(initiator.IkePort, responder.IkePort);
            initPid = initiator.ProcessId;
            respPid = responder.ProcessId;
            initDir = initiator.WorkDirectory;
            respDir = responder.WorkDirectory;
            await using var capture = await TsharkCapture.StartAsync(
                [initiator.IkePort, initiator.NatTPort, responder.IkePort, responder.NatTPort], ct: Ct);

            // IKE_SA_INIT + IKE_AUTH with one CHILD_SA.
            await initiator.InitiateAsync(ct: Ct);
            var (iIke, iChild) = await initiator.WaitForChildSaAsync(ct: Ct);
            var (rIke, rChild) = await responder.WaitForChildSaAsync(ct: Ct);
            output.WriteLine($"initiator: {iIke}\nresponder: {rIke}");
            Assert.True(iIke.IsInitiator);
            Assert.False(rIke.IsInitiator);
            Assert.Equal(iIke.LocalSpi, rIke.RemoteSpi);
            Assert.Equal(rIke.LocalSpi, iIke.RemoteSpi);
            Assert.Equal(iChild.SpiIn, rChild.SpiOut);
            Assert.Equal(iChild.SpiOut, rChild.SpiIn);
            Assert.Equal("AES_GCM_16", iIke.EncryptionAlgorithm);
            Assert.Equal("CURVE_25519", iIke.DhGroup);
            Assert.Equal(responder.LocalId, iIke.RemoteId);
            Assert.Equal(initiator.LocalId, rIke.RemoteId);
            // kernel-libipsec: always UDP-encapsulated; NAT faked; the initiator floats to its NAT-T port.
            Assert.True(iChild.Encap && rChild.Encap);
            Assert.True(iIke.NatRemote);
            Assert.Equal(initiator.NatTPort, iIke.LocalPort);
            Assert.Equal(responder.IkePort, iIke.RemotePort);
            Assert.Equal(["127.0.0.1/32"], iChild.LocalTs);

            // CHILD_SA rekey (initiator side starts it).
            var newChild = await initiator.RekeyChildAsync(ct: Ct);
            Assert.NotEqual(iChild.SpiIn, newChild.SpiIn);
            var (_, rNewChild) = await responder.WaitForChildSaAsync(c => c.IsInstalled && c.SpiOut == newChild.SpiIn, ct: Ct);
            Assert.Equal(newChild.SpiOut, rNewChild.SpiIn);

            // IKE SA rekey (responder side starts it): CHILD_SAs move to the new IKE SA.
            var rNewIke = await responder.RekeyIkeAsync(ct: Ct);
            Assert.NotEqual(rIke.LocalSpi, rNewIke.LocalSpi);
            var iNewIke = await initiator.WaitForIkeSaAsync(s => s.IsEstablished && s.RemoteSpi == rNewIke.LocalSpi, ct: Ct);
            Assert.Equal(iNewIke.LocalSpi, rNewIke.RemoteSpi);
            Assert.Contains(iNewIke.Children, c => c.SpiIn == newChild.SpiIn && c.IsInstalled);

            // Delete the CHILD_SA, keep the IKE SA; then delete the IKE SA.
            await initiator.TerminateChildAsync(ct: Ct);
            await responder.WaitForNoChildSaAsync(ct: Ct);
            Assert.Single(await responder.ListSasAsync(Ct), s => s.IsEstablished);
            await initiator.TerminateIkeAsync(ct: Ct);
            await responder.WaitForNoIkeSaAsync(ct: Ct);

            var keys = initiator.GetIkeKeys().Concat(responder.GetIkeKeys())
                .DistinctBy(k => (k.InitiatorSpi, k.ResponderSpi)).ToList();
            output.WriteLine($"keys for {keys.Count} IKE SAs from the charon logs");
            Assert.Contains(keys, k => k.InitiatorSpi == iIke.InitiatorSpi && k.ResponderSpi == iIke.ResponderSpi);
            Assert.Contains(keys, k => k.InitiatorSpi == rNewIke.InitiatorSpi && k.ResponderSpi == rNewIke.ResponderSpi);
            report = await capture.AnalyzeAsync(keys, ct: Ct);
        }
        output.WriteLine(report.Summary);
        Assert.False(report.HasMalformed, report.Summary);
        Assert.Equal(["IKE_SA_INIT", "IKE_SA_INIT", "IKE_AUTH", "IKE_AUTH"], report.Exchanges.Take(4));
        Assert.Contains("CREATE_CHILD_SA", report.Exchanges);
        Assert.Contains("INFORMATIONAL", report.Exchanges);
        // Every encrypted message decrypted with the keys from charon's log (initial and rekeyed IKE SA).
        Assert.All(report.IkeMessages.Where(m => m.Exchange != "IKE_SA_INIT"), m => Assert.True(m.Decrypted, m.ToString()));
        var authRequest = report.IkeMessages.First(m => m.Exchange == "IKE_AUTH" && !m.IsResponse);
        Assert.Contains("IDi", authRequest.Payloads);
        Assert.Contains("TSi", authRequest.Payloads);
        Assert.All(report.IkeMessages.Where(m => m.Exchange != "IKE_SA_INIT"), m => Assert.True(m.UdpEncapsulated));

        // Disposal stopped both charons and removed their work directories.
        Assert.False(Directory.Exists($"/proc/{initPid}"), "initiator charon still running");
        Assert.False(Directory.Exists($"/proc/{respPid}"), "responder charon still running");
        Assert.False(Directory.Exists(initDir));
        Assert.False(Directory.Exists(respDir));
    }

    [Theory]
    [InlineData(TestKeyType.EcdsaP256)]
    [InlineData(TestKeyType.Rsa2048)]
    public async Task Certificates_establish_and_terminate(TestKeyType keyType)
    {
        using var pki = TestPki.Create(keyType);
        var (respOptions, initOptions) = Pair(new StrongSwanPeerOptions
        {
            Auth = PeerAuth.PublicKey, Pki = pki, KeyType = keyType, LogKeys = true,
        });
        await using var responder = await StrongSwanPeer.StartAsync(respOptions, Ct);
        await using var initiator = await StrongSwanPeer.StartAsync(initOptions(responder), Ct);
        Assert.Same(pki, initiator.Pki);
        Assert.NotNull(initiator.Credential);
        await using var capture = await TsharkCapture.StartAsync(
            [initiator.IkePort, initiator.NatTPort, responder.IkePort, responder.NatTPort], ct: Ct);

        await initiator.InitiateAsync(ct: Ct);
        var (iIke, iChild) = await initiator.WaitForChildSaAsync(ct: Ct);
        var (rIke, rChild) = await responder.WaitForChildSaAsync(ct: Ct);
        Assert.Equal(iIke.LocalSpi, rIke.RemoteSpi);
        Assert.Equal(iChild.SpiIn, rChild.SpiOut);
        Assert.Equal(initiator.LocalId, rIke.RemoteId);
        var signature = keyType == TestKeyType.EcdsaP256 ? "ECDSA" : "RSA";
        await responder.WaitForLogAsync($"authentication of '{initiator.LocalId}' with {signature}.* successful", ct: Ct);

        await initiator.TerminateIkeAsync(ct: Ct);
        await responder.WaitForNoIkeSaAsync(ct: Ct);

        var report = await capture.AnalyzeAsync(initiator.GetIkeKeys(), ct: Ct);
        output.WriteLine(report.Summary);
        Assert.False(report.HasMalformed, report.Summary);
        // With RSA the IKE_AUTH messages exceed charon's fragment_size (1280) and go as RFC 7383
        // fragments (SKF); tshark reassembles them and shows the payloads on the last fragment.
        var authRequest = report.IkeMessages.Last(m => m.Exchange == "IKE_AUTH" && !m.IsResponse);
        Assert.True(authRequest.Decrypted, report.Summary);
        Assert.Contains("IDi", authRequest.Payloads);
        Assert.Contains("CERT", authRequest.Payloads);
        Assert.Contains("AUTH", authRequest.Payloads);
        if (keyType == TestKeyType.Rsa2048) Assert.Contains(report.IkeMessages, m => m.Payloads.Contains("SKF"));
    }

    [Theory]
    [InlineData("aes256-sha256-modp2048", "AES_CBC", "HMAC_SHA2_256_128", "MODP_2048")]
    [InlineData("aes256gcm16-prfsha384-ecp256", "AES_GCM_16", null, "ECP_256")]
    public async Task Psk_with_other_ike_proposals(string proposals, string encryption, string? integrity, string group)
    {
        var (respOptions, initOptions) = Pair(new StrongSwanPeerOptions { IkeProposals = proposals, LogKeys = true });
        await using var responder = await StrongSwanPeer.StartAsync(respOptions, Ct);
        await using var initiator = await StrongSwanPeer.StartAsync(initOptions(responder), Ct);
        await using var capture = await TsharkCapture.StartAsync([initiator.IkePort, initiator.NatTPort, responder.IkePort], ct: Ct);

        await initiator.InitiateAsync(ct: Ct);
        var (rIke, _) = await responder.WaitForChildSaAsync(ct: Ct);
        Assert.Equal(encryption, rIke.EncryptionAlgorithm);
        Assert.Equal(256, rIke.EncryptionKeySize);
        Assert.Equal(integrity, rIke.IntegrityAlgorithm);
        Assert.Equal(group, rIke.DhGroup);
        await initiator.TerminateIkeAsync(ct: Ct);

        var report = await capture.AnalyzeAsync(responder.GetIkeKeys(), ct: Ct);
        output.WriteLine(report.Summary);
        Assert.False(report.HasMalformed, report.Summary);
        Assert.All(report.IkeMessages.Where(m => m.Exchange != "IKE_SA_INIT"), m => Assert.True(m.Decrypted, m.ToString()));
    }
}
