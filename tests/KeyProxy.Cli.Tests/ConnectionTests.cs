using System.Text.Json;

namespace KeyProxy.Cli.Tests;

/// <summary>Where the CLI finds the API and what it sends: options, environment, the token, an API that is not there.</summary>
[Collection(CliSiloCollection.Name)]
public sealed class ConnectionTests(CliSiloFixture silo)
{
    [Fact]
    public async Task The_api_address_and_token_come_from_the_environment_and_the_token_is_sent_as_bearer_and_never_printed()
    {
        // Development mode's token, as an operator exports it.
        var token = KeyProxy.Testing.AdminHttp.Credentials().Token!;
        var env = new Dictionary<string, string>(KeyProxy.Testing.AdminHttp.Environment()) { ["KEYPROXY_API"] = silo.BaseUrl + "/" };
        while (silo.Authorizations.TryDequeue(out _)) { }
        var run = await CliRun.RunAsync(env, "subscribers", "show", "alice@keyproxy.test");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("alice@keyproxy.test, version", run.Out);
        Assert.DoesNotContain(token, run.Out + run.Err);
        Assert.Contains("Bearer " + token, silo.Authorizations);

        // The option wins over the environment; a token the silo does not accept is a 401 naming the option, not printed.
        while (silo.Authorizations.TryDequeue(out _)) { }
        var option = await CliRun.RunAsync(new Dictionary<string, string>(env) { ["KEYPROXY_API"] = "http://127.0.0.1:1" },
            "subscribers", "show", "bob@keyproxy.test", "--api", silo.BaseUrl, "--token", "from-option");
        Assert.True(option.ExitCode == 1, option.ToString());
        Assert.Contains("401", option.Err);
        Assert.Contains("check --token or KEYPROXY_TOKEN", option.Err);
        Assert.DoesNotContain("from-option", option.Out + option.Err);
        Assert.Equal(["Bearer from-option"], silo.Authorizations);

        // Nothing given: Development mode's files, as the silo's start line names them.
        while (silo.Authorizations.TryDequeue(out _)) { }
        Assert.Equal(0, (await CliRun.RunAsync(null, "--api", silo.BaseUrl, "attachments")).ExitCode);
        Assert.Equal(["Bearer " + token], silo.Authorizations);
    }

    [Fact]
    public async Task A_CA_that_did_not_issue_the_listener_certificate_is_refused_naming_the_option()
    {
        var other = Directory.CreateTempSubdirectory("keyproxy-cli-other-ca-").FullName;
        try
        {
            var ca = KeyProxy.Silo.Security.DevelopmentCertificateAuthority.LoadOrCreate(other);
            var run = await CliRun.RunAsync(new Dictionary<string, string> { ["KEYPROXY_CA"] = ca.CertificatePath }, "--api", silo.BaseUrl, "attachments");
            Assert.Equal(1, run.ExitCode);
            Assert.Contains("certificate this client does not trust", run.Err);
            Assert.Contains("give --ca or KEYPROXY_CA", run.Err);
            var missing = await CliRun.RunAsync(null, "--api", silo.BaseUrl, "--ca", Path.Combine(other, "none.pem"), "attachments");
            Assert.Equal(2, missing.ExitCode);
        }
        finally
        {
            Directory.Delete(other, recursive: true);
        }
    }

    [Fact]
    public async Task An_unreachable_api_is_exit_1_naming_the_address()
    {
        var url = $"http://127.0.0.1:{CliSiloFixture.FreePort()}";
        var run = await CliRun.RunAsync(new Dictionary<string, string> { ["KEYPROXY_TOKEN"] = "secret-token-x" }, "--api", url, "sessions");
        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith($"keyproxy: cannot reach the admin API at {url}/", run.Err);
        Assert.DoesNotContain("secret-token-x", run.Err);
        Assert.Equal("", run.Out);
    }

    [Fact]
    public async Task Edge_counters_as_text_and_json()
    {
        var text = await CliRun.RunAsync(null, "--api", silo.BaseUrl, "edge", "--all");
        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.Matches(@"^edge cli-edge: \d+ attached, \d+ routes, \d+ half-open, \d+ grain calls", text.Out);
        Assert.Contains("  ports: handset IKE 500, NAT-T 4500; peer IKE 500, NAT-T 4500", text.Out);
        Assert.Matches(@"(?m)^  packets:$", text.Out);
        Assert.Matches(@"(?m)^    spoofed\s+\d+$", text.Out); // a drop reason, listed with --all even at 0
        Assert.Matches(@"(?m)^  process: cpu \d+\.\d s, allocated", text.Out);

        var json = await CliRun.RunAsync(null, "--api", silo.BaseUrl, "edge", "--json");
        Assert.True(json.ExitCode == 0, json.ToString());
        using var edge = JsonDocument.Parse(json.Out);
        Assert.Equal("cli-edge", edge.RootElement.GetProperty("edgeId").GetString());
        Assert.Equal(JsonValueKind.Object, edge.RootElement.GetProperty("drops").ValueKind);
        Assert.True(edge.RootElement.GetProperty("process").GetProperty("workingSetBytes").GetInt64() > 0);
    }

    [Fact]
    public async Task No_sessions_and_no_attachments_on_a_fresh_silo()
    {
        var sessions = await CliRun.RunAsync(null, "--api", silo.BaseUrl, "sessions");
        Assert.True(sessions.ExitCode == 0, sessions.ToString());
        Assert.Equal("no proxy sessions", sessions.Out.Trim());
        var sessionsJson = await CliRun.RunAsync(null, "--api", silo.BaseUrl, "sessions", "--json");
        using (var array = JsonDocument.Parse(sessionsJson.Out)) Assert.Equal(0, array.RootElement.GetArrayLength());

        var attachments = await CliRun.RunAsync(null, "--api", silo.BaseUrl, "attachments");
        Assert.True(attachments.ExitCode == 0, attachments.ToString());
        Assert.Equal("no attached handsets", attachments.Out.Trim());
        var attachmentsJson = await CliRun.RunAsync(null, "--api", silo.BaseUrl, "attachments", "--json");
        using (var array = JsonDocument.Parse(attachmentsJson.Out)) Assert.Equal(0, array.RootElement.GetArrayLength());
    }
}
