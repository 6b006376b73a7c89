using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Demo;
using KeyProxy.Ike.Protocol;
using KeyProxy.Interop.Tests.Fixtures;
using KeyProxy.Primitives;

namespace KeyProxy.Interop.Tests.Tests;

/// <summary>
/// Hybrid post-quantum IKE SAs (issue 19): our engine on real UDP sockets against strongSwan 6.0.6 (built by
/// infra/strongswan/build-charon6.sh, ml plugin), a classic key exchange in IKE_SA_INIT and ML-KEM in IKE_INTERMEDIATE
/// (RFC 9242, RFC 9370). charon itself must report the SA with the SPIs and additional key exchange our engine used.
/// </summary>
public sealed class HybridAgainstCharon6Tests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly EspSuite EspGcm256 = new(EncryptionAlgorithm.AesGcm16, 256, IntegrityAlgorithm.None, EsnMode.NoEsn);

    /// <summary>Proposal (strongSwan's notation, read by our parser too) and authentication: "psk" or "ecdsa" certificates.</summary>
    public static TheoryData<string, string> Matrix() => new()
    {
        { "aes256gcm16-prfsha384-x25519-ke1_mlkem768", "psk" },
        { "aes256gcm16-prfsha384-ecp384-ke1_mlkem1024", "psk" },
        { "aes256gcm16-prfsha384-x25519-ke1_mlkem768", "ecdsa" },
        { "aes256gcm16-prfsha384-ecp384-ke1_mlkem1024", "ecdsa" },
    };

    private static string CharonName(DhGroup method) => method switch
    {
        DhGroup.MlKem512 => "ML_KEM_512",
        DhGroup.MlKem768 => "ML_KEM_768",
        DhGroup.MlKem1024 => "ML_KEM_1024",
        DhGroup.Curve25519 => "CURVE_25519",
        DhGroup.Ecp384 => "ECP_384",
        _ => method.ToString(),
    };

    private static Task<EngineAgainstCharonTests.Setup> StartCharon6(string proposal, string auth, bool charonInitiates) =>
        EngineAgainstCharonTests.StartCharon(IkeSuiteNames.ParseIke(proposal), EspGcm256, proposal, "aes256gcm16", auth, charonInitiates, StrongSwanBuild.Upstream6);

    private void AssertHybrid(Fixtures.IkeSa charonIke, string proposal)
    {
        var suite = IkeSuiteNames.ParseIke(proposal);
        output.WriteLine($"charon: dh-group {charonIke.DhGroup}, ake1 {charonIke.Raw.Value("ake1")}");
        Assert.Equal(CharonName(suite.DhGroup), charonIke.DhGroup);
        Assert.Equal(CharonName(suite.AdditionalKeyExchanges[1]), charonIke.Raw.Value("ake1"));
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task Our_initiator_against_charon_6(string proposal, string auth)
    {
        await using var s = await StartCharon6(proposal, auth, charonInitiates: false);
        await using var host = UdpIkeHost.StartInitiator(s.Config);
        try
        {
            var (_, _, charonIke) = await EngineAgainstCharonTests.AssertCharonReports(s, host, output);
            AssertHybrid(charonIke, proposal);
        }
        catch (Exception) { output.WriteLine(s.Charon.Describe()); throw; }
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task Charon_6_initiator_against_our_responder(string proposal, string auth)
    {
        await using var s = await StartCharon6(proposal, auth, charonInitiates: true);
        await using var host = UdpIkeHost.StartResponder(s.Config);
        try
        {
            await s.Charon.InitiateAsync(ct: Ct);
            var (_, _, charonIke) = await EngineAgainstCharonTests.AssertCharonReports(s, host, output);
            AssertHybrid(charonIke, proposal);
        }
        catch (Exception) { output.WriteLine(s.Charon.Describe()); throw; }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Child_sa_and_ike_sa_rekeys_from_our_side(bool weInitiate)
    {
        const string proposal = "aes256gcm16-prfsha384-x25519-ke1_mlkem768";
        await using var s = await StartCharon6(proposal, "psk", charonInitiates: !weInitiate);
        await using var host = weInitiate ? UdpIkeHost.StartInitiator(s.Config) : UdpIkeHost.StartResponder(s.Config);
        try
        {
            if (!weInitiate) await s.Charon.InitiateAsync(ct: Ct);
            var (ours, _, _) = await EngineAgainstCharonTests.AssertCharonReports(s, host, output);

            host.Command(x => x.RekeyChildSa(ours.InboundSpi));
            var rekeyed = await host.WaitForAsync<ChildSaRekeyed>();
            await s.Charon.WaitForChildSaAsync(c => c.SpiIn == rekeyed.Replacement.OutboundSpi && c.SpiOut == rekeyed.Replacement.InboundSpi, ct: Ct);

            // RFC 9370 2.2.4: the new IKE SA runs the additional key exchange again, in IKE_FOLLOWUP_KE.
            host.Command(x => x.RekeyIkeSa());
            var ikeRekeyed = await host.WaitForAsync<IkeSaRekeyed>();
            var newIke = await s.Charon.WaitForIkeSaAsync(i => i.InitiatorSpi == ikeRekeyed.InitiatorSpi && i.ResponderSpi == ikeRekeyed.ResponderSpi && i.IsEstablished, ct: Ct);
            AssertHybrid(newIke, proposal);
            await s.Charon.WaitForNoIkeSaAsync(i => i.InitiatorSpi == ikeRekeyed.OldInitiatorSpi, ct: Ct);

            host.Command(x => x.Delete());
            await host.WaitForAsync<IkeSaClosed>();
            await s.Charon.WaitForNoIkeSaAsync(ct: Ct);
        }
        catch (Exception) { output.WriteLine(s.Charon.Describe()); throw; }
    }

    [Fact]
    public async Task Child_sa_and_ike_sa_rekeys_from_charons_side()
    {
        const string proposal = "aes256gcm16-prfsha384-x25519-ke1_mlkem768";
        await using var s = await StartCharon6(proposal, "psk", charonInitiates: false);
        await using var host = UdpIkeHost.StartInitiator(s.Config);
        try
        {
            var (ours, _, _) = await EngineAgainstCharonTests.AssertCharonReports(s, host, output);

            var rekeyedTheirs = await s.Charon.RekeyChildAsync(ct: Ct);
            var rekeyed = await host.WaitForAsync<ChildSaRekeyed>();
            Assert.Equal(rekeyedTheirs.SpiIn, rekeyed.Replacement.OutboundSpi);

            var newIke = await s.Charon.RekeyIkeAsync(ct: Ct);
            var ikeRekeyed = await host.WaitForAsync<IkeSaRekeyed>();
            Assert.Equal(newIke.InitiatorSpi, ikeRekeyed.InitiatorSpi);
            AssertHybrid(await s.Charon.WaitForIkeSaAsync(i => i.InitiatorSpi == newIke.InitiatorSpi && i.IsEstablished, ct: Ct), proposal);

            await s.Charon.TerminateIkeAsync(ct: Ct);
            Assert.Equal(IkeCloseReason.DeletedByPeer, (await host.WaitForAsync<IkeSaClosed>()).Reason);
            _ = ours;
        }
        catch (Exception) { output.WriteLine(s.Charon.Describe()); throw; }
    }

    [Fact]
    public async Task Capture_of_a_hybrid_exchange_and_its_rekey_decodes_and_decrypts_without_malformed_packets()
    {
        const string proposal = "aes256gcm16-prfsha384-ecp384-ke1_mlkem1024";
        await using var s = await StartCharon6(proposal, "psk", charonInitiates: false);
        TsharkReport report;
        List<TsharkReport> readings = [];
        await using (var capture = await TsharkCapture.StartAsync([s.Ports[0], s.Ports[1], s.Charon.IkePort, s.Charon.NatTPort], ct: Ct))
        {
            await using var host = UdpIkeHost.StartInitiator(s.Config);
            try
            {
                await EngineAgainstCharonTests.AssertCharonReports(s, host, output);
                host.Command(x => x.RekeyIkeSa());
                await host.WaitForAsync<IkeSaRekeyed>();
                host.Command(x => x.Delete());
                await host.WaitForAsync<IkeSaClosed>();
                await s.Charon.WaitForNoIkeSaAsync(ct: Ct);
            }
            catch (Exception) { output.WriteLine(s.Charon.Describe()); throw; }
            // Wireshark's decryption table holds one set of keys per SPI pair, and RFC 9370 changes an IKE SA's keys after
            // each IKE_INTERMEDIATE (same SPIs): the capture is read once per key generation charon logged (the IKE_SA_INIT
            // keys protect the IKE_INTERMEDIATE messages, the final ones the rest; charon's threads may log them in either
            // order), and every message must dissect cleanly in one of the readings.
            var bySpis = s.Charon.GetIkeKeys().GroupBy(k => (k.InitiatorSpi, k.ResponderSpi)).Select(g => g.ToList()).ToList();
            for (int generation = 0; generation < bySpis.Max(g => g.Count); generation++)
                readings.Add(await capture.AnalyzeAsync(bySpis.Select(g => g[Math.Min(generation, g.Count - 1)]), ct: Ct));
            report = readings[0];
            // What the set-up of this IKE SA (IKE_SA_INIT, IKE_INTERMEDIATE, IKE_AUTH) puts on the wire from each side: a
            // handset doing hybrid IKE itself would send our side's share on its radio (issue 19, item 5).
            var sizes = (await capture.ReadUdpPayloadsAsync(Ct)).ToDictionary(p => p.Frame, p => p.Payload.Length);
            var setUp = report.IkeMessages.Where(m => m.Exchange is "IKE_SA_INIT" or "IKE_INTERMEDIATE" or "IKE_AUTH").ToList();
            long ours = setUp.Where(m => m.FromInitiator).Sum(m => sizes[m.Frame]), theirs = setUp.Where(m => !m.FromInitiator).Sum(m => sizes[m.Frame]);
            output.WriteLine($"IKE SA set-up on the wire: our initiator sent {ours} bytes in {setUp.Count(m => m.FromInitiator)} datagrams, " +
                $"charon {theirs} bytes in {setUp.Count(m => !m.FromInitiator)}");
            // ML-KEM-1024's encapsulation key and ciphertext are 1,568 bytes each.
            Assert.True(ours > 1568 && theirs > 1568, $"{ours} / {theirs} bytes");
        }
        foreach (var (reading, generation) in readings.Select((r, i) => (r, i)))
            output.WriteLine($"--- key generation {generation} ---\n{reading.Summary}");
        Assert.True(readings.Count >= 2, "charon logged one key generation: the IKE_INTERMEDIATE keys are missing");
        var intermediateFrames = report.IkeMessages.Where(m => m.Exchange == "IKE_INTERMEDIATE").Select(m => m.Frame).ToHashSet();
        Assert.NotEmpty(intermediateFrames);
        Assert.All(report.IkeMessages, m => Assert.Contains(readings, r => !ProblemFrames(r).Contains(m.Frame)));
        Assert.All(intermediateFrames, f => Assert.Contains(readings,
            r => !ProblemFrames(r).Contains(f) && r.IkeMessages.Any(m => m.Frame == f && m.Decrypted)));
        // ML-KEM-1024's key and ciphertext take RFC 7383 fragments; IKE_INTERMEDIATE is exchange type 43, IKE_FOLLOWUP_KE 44.
        Assert.Equal(["IKE_SA_INIT", "IKE_SA_INIT"], report.Exchanges.Take(2));
        Assert.Contains(report.IkeMessages, m => m.Exchange == "IKE_INTERMEDIATE" && !m.IsResponse);
        Assert.Contains(report.IkeMessages, m => m.Exchange == "IKE_INTERMEDIATE" && m.IsResponse);
        Assert.Contains(report.IkeMessages, m => m.Exchange == "IKE_FOLLOWUP_KE" && !m.IsResponse);
        Assert.Contains(report.IkeMessages, m => m.Exchange == "IKE_FOLLOWUP_KE" && m.IsResponse);
        Assert.Contains("IKE_AUTH", report.Exchanges);
    }

    private static IEnumerable<int> ProblemFrames(TsharkReport report) =>
        report.Problems.Select(p => int.Parse(System.Text.RegularExpressions.Regex.Match(p, @"^frame (\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
}
