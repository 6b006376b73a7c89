using System.Text.Json;
using KeyProxy.Interop.Tests.Fixtures;
using KeyProxyCli = KeyProxy.Cli.KeyProxyCli;

namespace KeyProxy.Interop.Tests.EndToEnd;

/// <summary>
/// The operator CLI (<c>keyproxy</c>, src/KeyProxy.Cli) against a silo whose proxy negotiated a real SA with charon (flow 1):
/// its session listing shows the same IKE SA and CHILD_SA as charon's <c>swanctl --list-sas</c> (SPIs, suites, mode), and
/// its attachments and subscriber views show the attached handset. Both listings are written to the test output and to
/// <c>$TMPDIR/keyproxy-cli-sessions.txt</c>, side by side.
/// </summary>
public sealed class OperatorCliTests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<(int Code, string Out, string Err)> Cli(string api, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await KeyProxyCli.RunAsync(["--api", api, .. args], stdout, stderr, _ => null, Ct);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task Session_listing_matches_swanctl_list_sas_of_the_peer_for_the_same_sa()
    {
        await using var world = await ProxiedWorld.StartAsync(ct: Ct);
        try
        {
            var (handset, events, attached) = await world.AttachAsync(Ct);
            var charon = await world.StartCharonAsync(ct: Ct);
            var installed = await world.EstablishFromHandsetAsync(handset, events, Ct);
            await world.EchoAsync(handset, "counted by charon, not by the proxy", Ct);
            var api = world.Silo.BaseUrl;

            // The session registers in the directory after the key transfer: wait until the API lists its CHILD_SA.
            JsonElement session = default;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
            while (true)
            {
                var json = await Cli(api, "sessions", "--json");
                Assert.True(json.Code == 0, json.Err);
                using var document = JsonDocument.Parse(json.Out);
                var found = document.RootElement.EnumerateArray().FirstOrDefault(s => s.GetProperty("childSas").GetArrayLength() > 0);
                if (found.ValueKind == JsonValueKind.Object)
                {
                    session = found.Clone();
                    break;
                }
                if (DateTime.UtcNow > deadline) Assert.Fail("no session with a CHILD_SA in GET /api/sessions:\n" + json.Out);
                await Task.Delay(200, Ct);
            }

            var text = await Cli(api, "sessions");
            Assert.True(text.Code == 0, text.Err);
            var listSas = await charon.SwanctlAsync(["--list-sas"], Ct);
            var excerpt = $"$ keyproxy sessions\n{text.Out}\n$ swanctl --list-sas   (charon, the peer)\n{listSas}";
            output.WriteLine(excerpt);
            await File.WriteAllTextAsync(Path.Combine(Path.GetTempPath(), "keyproxy-cli-sessions.txt"), excerpt, Ct);

            // Same IKE SA: the proxy initiated as alice, charon responded.
            var (ike, child) = await charon.WaitForChildSaAsync(c => c.SpiIn == installed.OutboundSpi, ct: Ct);
            Assert.False(ike.IsInitiator);
            Assert.Equal($"{ike.InitiatorSpi:x16}/{ike.ResponderSpi:x16}", session.GetProperty("ikeSpis").GetString());
            Assert.Equal("ESTABLISHED", session.GetProperty("ikeState").GetString());
            Assert.Equal("alice@keyproxy.test", session.GetProperty("nai").GetString());
            Assert.Equal("initiator", session.GetProperty("role").GetString());
            Assert.Equal(world.Peer.ToString(), session.GetProperty("peerAddress").GetString());
            Assert.Contains($"alice@keyproxy.test: {session.GetProperty("sessionId").GetString()}, ESTABLISHED, IKEv2, {ike.InitiatorSpi:x16}_i* {ike.ResponderSpi:x16}_r", text.Out);
            Assert.Contains($"local  'alice@keyproxy.test' @ {attached.Address} (edge {world.Silo.EdgeId}, proxy as initiator)", text.Out);
            Assert.Contains($"remote {world.Peer}", text.Out);
            // swanctl prints the same suite line (its SPIs the other way round: "_i ... _r*" on the responder).
            var ikeSuite = session.GetProperty("ikeSuite").GetString()!;
            Assert.Contains("  " + ikeSuite + "\n", text.Out);
            Assert.Contains("  " + ikeSuite + "\n", listSas);
            Assert.Contains($"{ike.InitiatorSpi:x16}_i {ike.ResponderSpi:x16}_r*", listSas);

            // Same CHILD_SA: what the handset receives with is what charon sends with, and the other way round.
            var childJson = session.GetProperty("childSas")[0];
            Assert.Equal($"{child.SpiOut:x8}", childJson.GetProperty("inboundSpi").GetString());
            Assert.Equal($"{child.SpiIn:x8}", childJson.GetProperty("outboundSpi").GetString());
            Assert.Equal($"{installed.InboundSpi:x8}", childJson.GetProperty("inboundSpi").GetString());
            Assert.Contains($"    in  {child.SpiOut:x8}\n", text.Out);
            Assert.Contains($"    out {child.SpiIn:x8}\n", text.Out);
            Assert.Contains($"in  {child.SpiIn:x8}", listSas);
            Assert.Contains($"out {child.SpiOut:x8}", listSas);
            var espSuite = childJson.GetProperty("suite").GetString()!;
            Assert.Contains($"ESP:{espSuite}\n", text.Out);
            Assert.Contains($"ESP:{espSuite}", listSas);
            Assert.Matches(@"(?m)^  established \d+s ago$", text.Out);
            Assert.Matches(@"(?m)^    installed \d+s ago$", text.Out);
            Assert.DoesNotContain(Proxied.Psk, text.Out + session.GetRawText());

            // The attachment and the subscriber's view name the same handset address.
            var attachments = await Cli(api, "attachments");
            Assert.True(attachments.Code == 0, attachments.Err);
            Assert.Matches($@"(?m)^alice@keyproxy\.test\s+{world.Silo.EdgeId}\s+{attached.Address.ToString().Replace(".", @"\.")}\s+\d+\s+\d+s ago$", attachments.Out);
            var show = await Cli(api, "subscribers", "show", "alice@keyproxy.test");
            Assert.True(show.Code == 0, show.Err);
            Assert.Contains($"attached       edge {world.Silo.EdgeId}, address {attached.Address}, tunnel ", show.Out);
            Assert.DoesNotContain(Proxied.Psk, show.Out);

            // The edge counted the proxied exchange.
            var edge = await Cli(api, "edge");
            Assert.True(edge.Code == 0, edge.Err);
            Assert.Matches($@"^edge {world.Silo.EdgeId}: 1 attached, [1-9]\d* routes, 0 half-open, [1-9]\d* grain calls", edge.Out);
            output.WriteLine("$ keyproxy edge\n" + edge.Out);

            // charon rekeys the CHILD_SA: the listing follows (the new pair in, the old one gone once deleted).
            var fresh = await charon.RekeyChildAsync(timeout: TimeSpan.FromSeconds(15), ct: Ct);
            string[] listed = [];
            deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
            while (true)
            {
                var json = await Cli(api, "sessions", "--json", "--nai", "alice@keyproxy.test");
                Assert.True(json.Code == 0, json.Err);
                using var document = JsonDocument.Parse(json.Out);
                listed = [.. document.RootElement.EnumerateArray().SelectMany(s => s.GetProperty("childSas").EnumerateArray())
                    .Select(c => c.GetProperty("inboundSpi").GetString() + "/" + c.GetProperty("outboundSpi").GetString())];
                if (listed.SequenceEqual([$"{fresh.SpiOut:x8}/{fresh.SpiIn:x8}"])) break;
                if (DateTime.UtcNow > deadline) Assert.Fail($"after the rekey to {fresh}, /api/sessions lists CHILD_SAs [{string.Join(", ", listed)}]");
                await Task.Delay(200, Ct);
            }
            var rekeyed = await Cli(api, "sessions");
            Assert.Contains($"    in  {fresh.SpiOut:x8}\n", rekeyed.Out);
            Assert.DoesNotContain($"{child.SpiOut:x8}", rekeyed.Out);
        }
        catch (Exception)
        {
            output.WriteLine(world.Describe());
            throw;
        }
    }
}
