using System.Text.Json;

namespace KeyProxy.Cli.Tests;

/// <summary><c>keyproxy subscribers ...</c> against a running silo: provision from a file, list, show, delete, errors.</summary>
[Collection(CliSiloCollection.Name)]
public sealed class SubscriberCommandTests(CliSiloFixture silo) : IDisposable
{
    private const string Secret = "cli-test-secret-0123456789";
    private const string Psk = "cli-test-pre-shared-key-9876";
    private readonly string _dir = Directory.CreateTempSubdirectory("keyproxy-cli-tests-").FullName;

    private Task<CliRun> Run(params string[] args) => CliRun.RunAsync(null, ["--api", silo.BaseUrl, .. args]);

    private string ProfileFile(string nai, string msisdn = "15550007001", string? body = null)
    {
        var path = Path.Combine(_dir, nai + ".json");
        File.WriteAllText(path, body ?? $$"""
            {
              "nai": "{{nai}}",
              "msisdn": "{{msisdn}}",
              "secret": "text:{{Secret}}",
              "proxyService": true,
              "conditions": [ { "peerPrefix": "198.51.100.0/24", "protocol": 17, "startPort": 500, "endPort": 4500, "roles": ["initiator", "responder"], "peerIdentity": "fqdn:peer.example" } ],
              "ikeIdentity": "fqdn:{{nai.Replace('@', '.')}}",
              "preSharedKeys": [ { "peerPrefix": "198.51.100.0/24", "peerIdentity": null, "key": "text:{{Psk}}" } ],
              "ikeProposals": ["aes128gcm16-prfsha256-x25519"],
              "espProposals": ["aes128gcm16"]
            }
            """);
        return path;
    }

    private static void NoSecrets(CliRun run)
    {
        Assert.DoesNotContain(Secret, run.Out + run.Err);
        Assert.DoesNotContain(Psk, run.Out + run.Err);
    }

    [Fact]
    public async Task Provision_from_a_file_then_list_show_and_delete()
    {
        const string nai = "carol-cli@keyproxy.test";
        var created = await Run("subscribers", "provision", ProfileFile(nai));
        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.StartsWith($"created {nai} (version 1)", created.Out);
        Assert.Contains("ike identity   fqdn:carol-cli.keyproxy.test", created.Out);
        Assert.Contains("psk peers      198.51.100.0/24 any", created.Out);
        NoSecrets(created);

        var replaced = await Run("subscribers", "provision", ProfileFile(nai, msisdn: "15550007002"));
        Assert.True(replaced.ExitCode == 0, replaced.ToString());
        Assert.StartsWith($"replaced {nai} (version 2)", replaced.Out);

        var list = await Run("subscribers", "list");
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Matches(@"(?m)^NAI\s+MSISDN\s+PROXY\s+IKE IDENTITY\s+ATTACHED\s+VERSION$", list.Out);
        Assert.Matches($@"(?m)^{nai.Replace(".", @"\.")}\s+15550007002\s+yes\s+fqdn:carol-cli\.keyproxy\.test\s+-\s+2$", list.Out);
        Assert.Contains("alice@keyproxy.test", list.Out); // a demo subscriber
        Assert.Matches(@"(?m)^\d+ subscribers, 1-\d+ shown$", list.Out);

        var show = await Run("subscribers", "show", nai);
        Assert.True(show.ExitCode == 0, show.ToString());
        Assert.Contains($"{nai}, version 2", show.Out);
        Assert.Contains("msisdn         15550007002", show.Out);
        Assert.Contains("conditions     198.51.100.0/24 protocol 17 ports 500-4500 as initiator,responder, peer fqdn:peer.example", show.Out);
        Assert.Contains("attached       no", show.Out);
        NoSecrets(show);

        var deleted = await Run("subscribers", "delete", nai);
        Assert.True(deleted.ExitCode == 0, deleted.ToString());
        Assert.Equal($"deleted {nai}", deleted.Out.Trim());

        var gone = await Run("subscribers", "show", nai);
        Assert.Equal(1, gone.ExitCode);
        Assert.Equal("", gone.Out);
        Assert.Equal($"keyproxy: 404 Not Found: unknown subscriber {nai}", gone.Err.Trim());

        var again = await Run("subscribers", "delete", nai);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("404 Not Found: unknown subscriber", again.Err);
    }

    [Fact]
    public async Task Json_output_parses_and_carries_no_secret()
    {
        const string nai = "dave-cli@keyproxy.test";
        var created = await Run("subscribers", "provision", ProfileFile(nai), "--json");
        Assert.True(created.ExitCode == 0, created.ToString());
        using (var summary = JsonDocument.Parse(created.Out))
        {
            Assert.Equal(nai, summary.RootElement.GetProperty("nai").GetString());
            Assert.Equal(1, summary.RootElement.GetProperty("version").GetInt32());
            Assert.False(summary.RootElement.TryGetProperty("secret", out _));
        }
        NoSecrets(created);

        var show = await Run("--json", "subscribers", "show", nai);
        Assert.True(show.ExitCode == 0, show.ToString());
        using (var summary = JsonDocument.Parse(show.Out))
        {
            Assert.Equal("fqdn:dave-cli.keyproxy.test", summary.RootElement.GetProperty("ikeIdentity").GetString());
            Assert.Equal("198.51.100.0/24", summary.RootElement.GetProperty("preSharedKeyPeers")[0].GetProperty("peerPrefix").GetString());
        }

        var list = await Run("subscribers", "list", "--json", "--take", "1000");
        Assert.True(list.ExitCode == 0, list.ToString());
        using (var page = JsonDocument.Parse(list.Out))
        {
            Assert.Equal(1000, page.RootElement.GetProperty("take").GetInt32());
            Assert.Contains(page.RootElement.GetProperty("items").EnumerateArray(), s => s.GetProperty("nai").GetString() == nai);
        }

        var deleted = await Run("subscribers", "delete", nai, "--json");
        Assert.True(deleted.ExitCode == 0, deleted.ToString());
        using (var body = JsonDocument.Parse(deleted.Out)) Assert.Equal(nai, body.RootElement.GetProperty("deleted").GetString());
    }

    [Fact]
    public async Task An_invalid_profile_is_exit_1_with_every_error_of_the_api()
    {
        var path = ProfileFile("erin-cli@keyproxy.test", body: """
            { "nai": "erin-cli@keyproxy.test", "msisdn": "12", "secret": "text:short", "proxyService": true, "ikeIdentity": "fqdn:erin.keyproxy.test" }
            """);
        var run = await Run("subscribers", "provision", path);
        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("keyproxy: 400 Bad Request:", run.Err);
        Assert.Contains("msisdn", run.Err);
        Assert.Contains("secret", run.Err);
        Assert.True(run.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length >= 3, run.ToString()); // one line per error
        Assert.Equal(1, (await Run("subscribers", "show", "erin-cli@keyproxy.test")).ExitCode);
    }

    [Fact]
    public async Task Usage_errors_are_exit_2()
    {
        var missing = await Run("subscribers", "provision", Path.Combine(_dir, "no-such-file.json"));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("cannot read", missing.Err);

        var noNai = await Run("subscribers", "provision", ProfileFile("frank-cli", body: """{ "msisdn": "15550007009" }"""));
        Assert.Equal(2, noNai.ExitCode);
        Assert.Contains("has no \"nai\": give --nai", noNai.Err);

        var notJson = await Run("subscribers", "provision", ProfileFile("grace-cli", body: "{ not json"));
        Assert.Equal(2, notJson.ExitCode);
        Assert.Contains("not JSON", notJson.Err);

        // With --nai the API gets the body and lists its problem: exit 1.
        var apiSays = await Run("subscribers", "provision", ProfileFile("grace-cli", body: "{ not json"), "--nai", "grace-cli@keyproxy.test");
        Assert.Equal(1, apiSays.ExitCode);
        Assert.Contains("malformed JSON", apiSays.Err);

        foreach (var args in new[] { new[] { "subscribers" }, ["subscribers", "show"], ["no-such-command"], ["edge", "--timeout", "soon"], ["edge", "--api", "ftp://example"] })
        {
            var run = await Run(args);
            Assert.True(run.ExitCode == 2, $"{string.Join(' ', args)}: {run}");
            Assert.StartsWith("keyproxy: ", run.Err);
        }
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
