using KeyProxy.Handset;
using KeyProxy.Interop.Tests.Fixtures;

namespace KeyProxy.Interop.Tests.EndToEnd;

/// <summary>
/// Quantum-resistant SAs for a handset that cannot do a KEM (issue 19): the subscriber's profile lists a hybrid proposal,
/// the proxy session runs X25519 and ML-KEM-768 (IKE_INTERMEDIATE) with strongSwan 6 in its namespace, and the handset gets
/// its SA as always, by one key transfer, its code unchanged. Flows 1 and 2.
/// </summary>
public sealed class HybridProxiedTests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const string Hybrid = "aes256gcm16-prfsha384-x25519-ke1_mlkem768";

    private static Task<ProxiedWorld> StartWorldAsync() =>
        ProxiedWorld.StartAsync(ct: Ct, profile: p => p with { IkeProposals = [Hybrid], EspProposals = ["aes256gcm16"] });

    private static StrongSwanPeerOptions Charon6(StrongSwanPeerOptions o) =>
        o with { Build = StrongSwanBuild.Upstream6, IkeProposals = Hybrid, EspProposals = "aes256gcm16" };

    [Fact]
    public async Task Flow_1_the_handsets_request_gets_a_hybrid_ike_sa_with_charon_6_and_esp_echoes()
    {
        await using var world = await StartWorldAsync();
        var charon = await world.StartCharonAsync(Charon6, Ct);
        var (handset, events, _) = await world.AttachAsync(Ct);
        try
        {
            SaInstalled installed;
            IReadOnlyList<(int Frame, int SourcePort, int DestinationPort, byte[] Payload)> accessLink;
            await using (var capture = await TsharkCapture.StartAsync([world.Silo.AccessEndPoint.Port], ct: Ct))
            {
                installed = await world.EstablishFromHandsetAsync(handset, events, Ct);
                accessLink = await capture.ReadUdpPayloadsAsync(Ct);
            }
            // On the handset's access link: its proxy request, then the key transfer, then the held packet and its echo.
            // The kilobytes of ML-KEM stay between the proxy and charon (issue 19, item 5).
            var edgePort = world.Silo.AccessEndPoint.Port;
            var request = accessLink.First(d => d.DestinationPort == edgePort).Payload.Length;
            var transfer = accessLink.First(d => d.SourcePort == edgePort).Payload.Length;
            output.WriteLine($"access link for this SA: proxy request {request} bytes, key transfer {transfer} bytes");
            Assert.All(accessLink, d => Assert.True(d.Payload.Length < KeyProxy.Ike.Crypto.MlKemParameterSet.MlKem768.CiphertextLength, $"{d.Payload.Length} bytes"));
            var (ike, child) = await charon.WaitForChildSaAsync(c => c.SpiIn == installed.OutboundSpi, ct: Ct);
            output.WriteLine(ike.ToString());
            Assert.Equal("CURVE_25519", ike.DhGroup);
            Assert.Equal("ML_KEM_768", ike.Raw.Value("ake1"));
            Assert.Equal(installed.InboundSpi, child.SpiOut);
            // What the handset saw is what it sees for any SA: one request, one key transfer.
            Assert.Single(events.All<ProxyRequested>());
            Assert.Single(events.All<SaInstalled>());
            for (int i = 0; i < 3; i++) await world.EchoAsync(handset, $"quantum-resistant #{i}", Ct);
        }
        catch (Exception) { output.WriteLine(world.Describe()); output.WriteLine("handset events:\n" + events); throw; }
    }

    [Fact]
    public async Task Flow_2_charon_6_initiates_a_hybrid_ike_sa_towards_the_handset_which_gets_the_sa_by_key_transfer()
    {
        await using var world = await StartWorldAsync();
        var (handset, events, attached) = await world.AttachAsync(Ct);
        var charon = await world.StartCharonAsync(o => Charon6(o) with { RemoteAddress = attached.Address.ToString(), RemotePort = 500 }, Ct);
        try
        {
            await charon.InitiateAsync(timeout: TimeSpan.FromSeconds(15), ct: Ct);
            var installed = await events.WaitAsync<SaInstalled>(null, TimeSpan.FromSeconds(10), Ct);
            var (ike, child) = await charon.WaitForChildSaAsync(c => c.SpiIn == installed.OutboundSpi, ct: Ct);
            output.WriteLine(ike.ToString());
            Assert.True(ike.IsInitiator);
            Assert.Equal("ML_KEM_768", ike.Raw.Value("ake1"));
            Assert.Equal(installed.InboundSpi, child.SpiOut);
            Assert.Empty(events.All<ProxyRequested>());
            for (int i = 0; i < 3; i++) await world.EchoAsync(handset, $"called by a quantum-resistant peer #{i}", Ct);
        }
        catch (Exception) { output.WriteLine(world.Describe()); output.WriteLine("handset events:\n" + events); throw; }
    }
}
