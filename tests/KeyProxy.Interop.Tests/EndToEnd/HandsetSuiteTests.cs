using KeyProxy.Handset;
using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Messages;
using KeyProxy.Interop.Tests.Fixtures;
using KeyProxy.Primitives;

namespace KeyProxy.Interop.Tests.EndToEnd;

/// <summary>
/// Flows 1 and 2 agree on ESP suites: whichever side starts IKE, the proxy negotiates only a suite the handset said it
/// runs (in its proxy request, and at attach) and its profile allows, even when charon and the profile both prefer another.
/// </summary>
public sealed class HandsetSuiteTests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private static readonly EspSuite Gcm128 = new(EncryptionAlgorithm.AesGcm16, 128, IntegrityAlgorithm.None, EsnMode.NoEsn);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Only_a_suite_the_handset_offered_is_negotiated_whoever_initiates(bool peerInitiated)
    {
        // The profile and charon both prefer AES-GCM-256; the handset runs AES-GCM-128 only.
        await using var world = await ProxiedWorld.StartAsync(ct: Ct, profile: p => p with { EspProposals = ["aes256gcm16", "aes128gcm16"] });
        var (handset, events, attached) = await world.AttachAsync(Ct, c => c with { Suites = [Gcm128] });
        try
        {
            const string esp = "aes256gcm16-aes128gcm16";
            SaInstalled installed;
            if (peerInitiated)
            {
                var charon = await world.StartCharonAsync(o => o with { RemoteAddress = attached.Address.ToString(), RemotePort = 500, EspProposals = esp }, Ct);
                await charon.InitiateAsync(timeout: Wait, ct: Ct);
                installed = await events.WaitAsync<SaInstalled>(null, Wait, Ct);
                await world.EchoAsync(handset, "through the suite the handset runs", Ct);
            }
            else
            {
                await world.StartCharonAsync(o => o with { EspProposals = esp }, Ct);
                installed = await world.EstablishFromHandsetAsync(handset, events, Ct);
            }

            Assert.Equal(Gcm128, installed.Suite);
            Assert.Empty(events.All<KeyTransferRejected>());
            var (_, child) = await world.Charon!.WaitForChildSaAsync(c => c.SpiIn == installed.OutboundSpi, ct: Ct);
            Assert.Equal(128, child.EncryptionKeySize);
        }
        catch (Exception) { output.WriteLine(world.Describe()); output.WriteLine("handset events:\n" + events); throw; }
    }
}
