using System.Text.Json;

namespace KeyProxy.Cli.Tests;

/// <summary>The swanctl-like session listing and the <c>--json</c> redaction, on fixed input.</summary>
public sealed class FormattingTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 5, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Sessions_read_like_swanctl_list_sas()
    {
        var session = new Session("6f1c0a2e-0000-4000-8000-000000000001", "alice@keyproxy.test", "initiator", "10.99.0.2", "edge-a",
            "1e3a3cb0f8b8d2c7/6ba5e5b0e8e8d1c8", Now.AddSeconds(-9), "ESTABLISHED", "AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519", Now.AddSeconds(-8),
            [new ChildSa("c2b7b5c4", "c3a8b7b0", "AES_GCM_16-128", "TUNNEL-in-UDP", Now.AddSeconds(-8))]);
        var responder = session with { SessionId = "s2", Nai = "bob@keyproxy.test", Role = "responder", ChildSas = [] };
        using var output = new StringWriter();
        SessionListing.Write(output, [session, responder], new Dictionary<string, string> { ["alice@keyproxy.test"] = "127.0.1.1" }, Now);
        Assert.Equal("""
            alice@keyproxy.test: 6f1c0a2e-0000-4000-8000-000000000001, ESTABLISHED, IKEv2, 1e3a3cb0f8b8d2c7_i* 6ba5e5b0e8e8d1c8_r
              local  'alice@keyproxy.test' @ 127.0.1.1 (edge edge-a, proxy as initiator)
              remote 10.99.0.2
              AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519
              established 8s ago
              child: INSTALLED, TUNNEL-in-UDP, ESP:AES_GCM_16-128
                installed 8s ago
                in  c2b7b5c4
                out c3a8b7b0
            bob@keyproxy.test: s2, ESTABLISHED, IKEv2, 1e3a3cb0f8b8d2c7_i 6ba5e5b0e8e8d1c8_r*
              local  'bob@keyproxy.test' @ (detached) (edge edge-a, proxy as responder)
              remote 10.99.0.2
              AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519
              established 8s ago

            """.ReplaceLineEndings(), output.ToString().ReplaceLineEndings());
    }

    [Fact]
    public void Json_output_redacts_members_named_like_secrets()
    {
        using var document = JsonDocument.Parse("""
            { "nai": "x", "secret": "hex:00", "preSharedKeys": [ { "peerPrefix": "10.0.0.0/8", "key": "text:psk" } ],
              "certificate": { "certificatePem": "-----BEGIN", "privateKeyPem": null }, "count": 3 }
            """);
        using var output = new StringWriter();
        JsonOutput.Write(output, document.RootElement);
        using var printed = JsonDocument.Parse(output.ToString());
        var root = printed.RootElement;
        Assert.Equal("x", root.GetProperty("nai").GetString());
        Assert.Equal(JsonOutput.Redacted, root.GetProperty("secret").GetString());
        Assert.Equal(JsonOutput.Redacted, root.GetProperty("preSharedKeys")[0].GetProperty("key").GetString());
        Assert.Equal("10.0.0.0/8", root.GetProperty("preSharedKeys")[0].GetProperty("peerPrefix").GetString());
        Assert.Equal(JsonOutput.Redacted, root.GetProperty("certificate").GetProperty("certificatePem").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("certificate").GetProperty("privateKeyPem").ValueKind);
        Assert.Equal(3, root.GetProperty("count").GetInt32());
        Assert.DoesNotContain("psk\"", output.ToString());
    }

    [Fact]
    public void Api_problem_text_is_error_or_every_errors_entry()
    {
        Assert.Equal(["unknown subscriber x"], AdminApiClient.ProblemText("""{ "error": "unknown subscriber x" }"""));
        Assert.Equal(["a", "b"], AdminApiClient.ProblemText("""{ "errors": ["a", "b"] }"""));
        Assert.Empty(AdminApiClient.ProblemText("<html>"));
        Assert.Empty(AdminApiClient.ProblemText(""));
    }
}
