using System.Net;
using System.Text;
using System.Text.Json;
using KeyProxy.Silo.Api;
using Microsoft.Extensions.DependencyInjection;

namespace KeyProxy.Silo.Tests;

[Collection(SiloHostCollection.Name)]
public sealed class AdminApiTests(SiloHostFixture host)
{
    private const string Secret = "api-test-secret-0123456789";
    private const string PskText = "api-test-pre-shared-key";
    private static readonly string SecretHex = Convert.ToHexString(Encoding.UTF8.GetBytes(Secret));
    private static readonly string PskBase64 = Convert.ToBase64String(Encoding.UTF8.GetBytes(PskText));

    private static string Profile(string msisdn = "15550004321", string extra = "") => $$"""
        {
          "msisdn": "{{msisdn}}",
          "secret": "hex:{{SecretHex}}",
          "proxyService": true,
          "conditions": [ { "peerPrefix": "198.51.100.0/24", "protocol": 17, "startPort": 500, "endPort": 4500, "roles": ["initiator"], "peerIdentity": "fqdn:peer.example" } ],
          "ikeIdentity": "email:erin@keyproxy.test",
          "preSharedKeys": [ { "peerPrefix": "198.51.100.0/24", "peerIdentity": null, "key": "base64:{{PskBase64}}" } ],
          "ikeProposals": ["aes256-sha256-ecp256", "aes128gcm16-prfsha256-x25519"]{{extra}}
        }
        """;

    [Fact]
    public async Task Put_creates_with_201_then_replaces_with_200()
    {
        const string nai = "erin@keyproxy.test";
        var created = await Put(nai, Profile());
        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.Equal("/api/subscribers/erin%40keyproxy.test", created.Location);
        var summary = created.Json.RootElement;
        Assert.Equal(nai, summary.GetProperty("nai").GetString());
        Assert.Equal(1, summary.GetProperty("version").GetInt32());
        Assert.Equal("15550004321", summary.GetProperty("msisdn").GetString());
        Assert.Equal(["initiator"], summary.GetProperty("conditions")[0].GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal("198.51.100.0/24", summary.GetProperty("preSharedKeyPeers")[0].GetProperty("peerPrefix").GetString());
        Assert.Equal(2, summary.GetProperty("ikeProposals").GetArrayLength());
        Assert.Equal("aes128gcm16", summary.GetProperty("espProposals")[0].GetString());
        Assert.Equal(JsonValueKind.Null, summary.GetProperty("attachment").ValueKind);

        var replaced = await Put(nai, Profile(msisdn: "15550009999"));
        Assert.Equal(HttpStatusCode.OK, replaced.Status);
        Assert.Equal(2, replaced.Json.RootElement.GetProperty("version").GetInt32());

        var read = await Send(HttpMethod.Get, $"/api/subscribers/{nai}");
        Assert.Equal(HttpStatusCode.OK, read.Status);
        Assert.Equal("15550009999", read.Json.RootElement.GetProperty("msisdn").GetString());
        Assert.Equal(2, read.Json.RootElement.GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task Bad_input_is_400_listing_every_error()
    {
        var body = """
            {
              "nai": "someone-else@keyproxy.test",
              "msisdn": "+1 555",
              "secret": "text:short",
              "proxyService": true,
              "conditions": [ { "peerPrefix": "198.51.100.1/24", "startPort": 9, "endPort": 1, "roles": ["listener"] } ],
              "ikeIdentity": "peer.example",
              "preSharedKeys": [ { "peerPrefix": "198.51.100.0/24", "key": "0123456789abcdef0123" } ],
              "certificate": { "certificatePem": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----", "privateKeyPem": "x" },
              "ikeProposals": ["aes128gcm16-prfsha256"],
              "espProposals": ["aes128gcm16-sha256"]
            }
            """;
        var response = await Put("frank@keyproxy.test", body);
        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        var errors = response.Json.RootElement.GetProperty("errors").EnumerateArray().Select(e => e.GetString()!).ToList();
        string[] expected =
        [
            "nai: 'someone-else@keyproxy.test' differs from the NAI in the URL 'frank@keyproxy.test'",
            "conditions[0].roles: unknown role 'listener'",
            "preSharedKeys[0].key: has no encoding prefix",
            "msisdn: '+1 555' is not an MSISDN",
            "secret: 5 bytes is too short",
            "conditions[0].peerPrefix: '198.51.100.1/24' is not a CIDR prefix",
            "conditions[0]: startPort 9 is above endPort 1",
            "ikeIdentity: 'peer.example' has no type prefix",
            "certificate.certificatePem: does not hold a PEM certificate that loads",
            "ikeProposals[0]: 'aes128gcm16-prfsha256' names no DH group",
            "espProposals[0]: 'aes128gcm16-sha256' combines AES-GCM with an integrity algorithm",
        ];
        Assert.Equal(expected.Length, errors.Count);
        foreach (var (want, got) in expected.Zip(errors))
        {
            Assert.StartsWith(want, got);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await Send(HttpMethod.Get, "/api/subscribers/frank@keyproxy.test")).Status);
    }

    [Theory]
    [InlineData("{ \"secret\": ", "malformed JSON: ")]
    [InlineData("not json at all", "malformed JSON: ")]
    [InlineData("", "malformed JSON: ")]
    [InlineData("[1, 2]", "malformed JSON: ")]
    [InlineData("{ \"secert\": \"text:abc\" }", "malformed JSON: The JSON property 'secert' could not be mapped")]
    [InlineData("{ \"conditions\": [ { \"peerPrefix\": \"10.0.0.0/8\", \"protocol\": 300 } ] }", "malformed JSON: ")]
    [InlineData("{ \"proxyService\": \"yes\" }", "malformed JSON: ")]
    [InlineData("null", "body: expected a JSON object")]
    public async Task Malformed_json_is_400_with_the_parsers_message(string body, string expected)
    {
        var response = await Put("grace@keyproxy.test", body);
        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        var error = Assert.Single(response.Json.RootElement.GetProperty("errors").EnumerateArray()).GetString();
        Assert.StartsWith(expected, error);
    }

    [Fact]
    public async Task Unknown_subscribers_are_404_for_get_and_delete()
    {
        var get = await Send(HttpMethod.Get, "/api/subscribers/nobody@keyproxy.test");
        Assert.Equal(HttpStatusCode.NotFound, get.Status);
        Assert.Equal("unknown subscriber nobody@keyproxy.test", get.Json.RootElement.GetProperty("error").GetString());

        var delete = await Send(HttpMethod.Delete, "/api/subscribers/nobody@keyproxy.test");
        Assert.Equal(HttpStatusCode.NotFound, delete.Status);
        Assert.Equal("unknown subscriber nobody@keyproxy.test", delete.Json.RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Delete_is_204_and_the_subscriber_is_gone()
    {
        const string nai = "heidi@keyproxy.test";
        Assert.Equal(HttpStatusCode.Created, (await Put(nai, Profile())).Status);
        var delete = await Send(HttpMethod.Delete, $"/api/subscribers/{nai}");
        Assert.Equal(HttpStatusCode.NoContent, delete.Status);
        Assert.Equal("", delete.Text);
        Assert.Equal(HttpStatusCode.NotFound, (await Send(HttpMethod.Get, $"/api/subscribers/{nai}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Send(HttpMethod.Delete, $"/api/subscribers/{nai}")).Status);
    }

    [Fact]
    public async Task List_shows_the_demo_subscribers_and_new_ones_in_pages()
    {
        Assert.Equal(HttpStatusCode.Created, (await Put("ivan@keyproxy.test", Profile())).Status);
        var list = await Send(HttpMethod.Get, "/api/subscribers");
        Assert.Equal(HttpStatusCode.OK, list.Status);
        var root = list.Json.RootElement;
        var nais = root.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("nai").GetString()).ToList();
        Assert.Contains("alice@keyproxy.test", nais);
        Assert.Contains("bob@keyproxy.test", nais);
        Assert.Contains("ivan@keyproxy.test", nais);
        Assert.Equal(root.GetProperty("total").GetInt32(), nais.Count);
        Assert.Equal(AdminApi.DefaultTake, root.GetProperty("take").GetInt32());

        var page = await Send(HttpMethod.Get, "/api/subscribers?skip=1&take=1");
        Assert.Equal(HttpStatusCode.OK, page.Status);
        Assert.Equal(nais[1], Assert.Single(page.Json.RootElement.GetProperty("items").EnumerateArray()).GetProperty("nai").GetString());

        var bad = await Send(HttpMethod.Get, "/api/subscribers?skip=-1&take=abc");
        Assert.Equal(HttpStatusCode.BadRequest, bad.Status);
        Assert.Equal(2, bad.Json.RootElement.GetProperty("errors").GetArrayLength());
    }

    [Fact]
    public async Task Attachments_and_sessions_are_empty_lists_until_the_edge_fills_them()
    {
        var attachments = await Send(HttpMethod.Get, "/api/attachments");
        Assert.Equal(HttpStatusCode.OK, attachments.Status);
        Assert.Equal(JsonValueKind.Array, attachments.Json.RootElement.ValueKind);
        Assert.Equal(0, attachments.Json.RootElement.GetArrayLength());

        var sessions = await Send(HttpMethod.Get, "/api/sessions");
        Assert.Equal(HttpStatusCode.OK, sessions.Status);
        Assert.Equal(0, sessions.Json.RootElement.GetArrayLength());

        Assert.Equal(HttpStatusCode.BadRequest, (await Send(HttpMethod.Get, "/api/sessions?take=0")).Status);
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Get, "/api")).Status);
    }

    [Fact]
    public async Task The_edge_status_counts_what_the_edge_saw_and_the_process_figures()
    {
        var before = await Send(HttpMethod.Get, "/api/edge");
        Assert.Equal(HttpStatusCode.OK, before.Status);
        var root = before.Json.RootElement;
        Assert.False(string.IsNullOrEmpty(root.GetProperty("edgeId").GetString()));
        Assert.True(root.GetProperty("process").GetProperty("allocatedBytes").GetInt64() > 0);
        Assert.True(root.GetProperty("process").GetProperty("cpuSeconds").GetDouble() > 0);
        long malformed = root.GetProperty("drops").GetProperty("malformed").GetInt64();
        var ports = root.GetProperty("ports");
        var network = host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<KeyProxy.Abstractions.ProxyNetworkOptions>>().Value;
        Assert.Equal(network.PeerIkePort, ports.GetProperty("peerIke").GetInt32());
        Assert.Equal(network.PeerNatTPort, ports.GetProperty("peerNatT").GetInt32());

        // One datagram too short to be an access-link message: the edge counts it as malformed.
        var edge = host.Services.GetRequiredService<KeyProxy.Edge.EdgeGateway>().AccessEndPoint;
        using (var udp = new System.Net.Sockets.UdpClient(edge.AddressFamily))
            await udp.SendAsync(new byte[] { 1 }, edge, TestContext.Current.CancellationToken);
        long after = malformed;
        for (int i = 0; i < 100 && after == malformed; i++)
        {
            await Task.Delay(20, TestContext.Current.CancellationToken);
            after = (await Send(HttpMethod.Get, "/api/edge")).Json.RootElement.GetProperty("drops").GetProperty("malformed").GetInt64();
        }

        Assert.Equal(malformed + 1, after);
    }

    [Fact]
    public async Task An_oversize_body_is_413_and_a_warning_without_a_stack_trace()
    {
        // A body announced above any limit the silo sets (Kestrel's default is 30 MB). Over a raw connection: the silo
        // answers before the body is sent, and HttpClient fails a request whose upload the server cut short.
        var logged = host.Logs.Records.Count;
        var refused = host.Services.GetRequiredService<RefusedRequests>().BodyTooLarge;
        var (status, text) = await RawPut("/api/subscribers/ivan@keyproxy.test", contentLength: 31L * 1024 * 1024, Profile());
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Contains("too large", text, StringComparison.OrdinalIgnoreCase);

        Assert.Equal(refused + 1, host.Services.GetRequiredService<RefusedRequests>().BodyTooLarge);
        var records = host.Logs.Records.Skip(logged).ToList();
        Assert.DoesNotContain(records, r => r.Level >= Microsoft.Extensions.Logging.LogLevel.Error);
        Assert.DoesNotContain(records, r => r.Exception is not null);
        var warning = Assert.Single(records, r => r.Message.Contains("/api/subscribers/ivan@keyproxy.test", StringComparison.Ordinal));
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, warning.Level);
        Assert.Contains("413", warning.Message);

        // The profile route's own limit is far below Kestrel's.
        var (bounded, _) = await RawPut("/api/subscribers/ivan@keyproxy.test", contentLength: AdminApi.MaxProfileBodyBytes + 1, Profile());
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, bounded);
        Assert.Equal(refused + 2, host.Services.GetRequiredService<RefusedRequests>().BodyTooLarge);
    }

    [Fact]
    public async Task A_put_without_a_json_content_type_is_415()
    {
        const string nai = "judy@keyproxy.test";
        var plain = await Send(HttpMethod.Put, $"/api/subscribers/{nai}", new StringContent(Profile(), Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, plain.Status);
        Assert.Contains("application/json", plain.Json.RootElement.GetProperty("error").GetString());
        var none = await Send(HttpMethod.Put, $"/api/subscribers/{nai}", new ByteArrayContent(Encoding.UTF8.GetBytes(Profile())));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, none.Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Send(HttpMethod.Get, $"/api/subscribers/{nai}")).Status);
        Assert.Equal(HttpStatusCode.Created, (await Put(nai, Profile())).Status);
    }

    [Fact]
    public async Task A_profile_above_its_bounds_is_400_naming_each_bound()
    {
        const string nai = "karl@keyproxy.test";
        var condition = """{ "peerPrefix": "198.51.100.0/24", "roles": ["initiator"] }""";
        var psk = $$"""{ "peerPrefix": "198.51.100.0/24", "key": "base64:{{PskBase64}}" }""";
        var body = $$"""
            {
              "secret": "hex:{{SecretHex}}",
              "proxyService": true,
              "conditions": [ {{string.Join(", ", Enumerable.Repeat(condition, 257))}} ],
              "ikeIdentity": "email:karl@keyproxy.test",
              "preSharedKeys": [ {{string.Join(", ", Enumerable.Repeat(psk, 65))}} ],
              "trustedCaPems": [ {{string.Join(", ", Enumerable.Repeat("\"-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----\"", 17))}} ]
            }
            """;
        var response = await Put(nai, body);
        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        var errors = response.Json.RootElement.GetProperty("errors").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Equal(
        [
            "conditions: 257 conditions; at most 256",
            "preSharedKeys: 65 keys; at most 64",
            "trustedCaPems: 17 certificates; at most 16",
        ], errors);

        var longPem = "-----BEGIN CERTIFICATE-----\\n" + new string('A', 20 * 1024) + "\\n-----END CERTIFICATE-----";
        var pem = await Put(nai, Profile(extra: $$""", "trustedCaPems": [ "{{longPem}}" ]"""));
        Assert.Equal(HttpStatusCode.BadRequest, pem.Status);
        Assert.StartsWith("trustedCaPems[0]: 20", Assert.Single(pem.Json.RootElement.GetProperty("errors").EnumerateArray()).GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await Send(HttpMethod.Get, $"/api/subscribers/{nai}")).Status);
    }

    /// <summary>A PUT announcing <paramref name="contentLength"/> bytes of JSON, of which only <paramref name="start"/> is sent; the status and body of the answer.</summary>
    private async Task<(HttpStatusCode Status, string Body)> RawPut(string path, long contentLength, string start)
    {
        var ct = TestContext.Current.CancellationToken;
        var uri = new Uri(host.BaseUrl);
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(uri.Host, uri.Port, ct);
        var (stream, authorization) = await KeyProxy.Testing.AdminHttp.RawAsync(tcp, uri.Host, ct);
        var head = $"PUT {path} HTTP/1.1\r\nHost: {uri.Authority}\r\n{authorization}Content-Type: application/json\r\nContent-Length: {contentLength}\r\n\r\n{start}";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), ct);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var statusLine = await reader.ReadLineAsync(ct) ?? "";
        int? length = null;
        for (var line = await reader.ReadLineAsync(ct); !string.IsNullOrEmpty(line); line = await reader.ReadLineAsync(ct))
        {
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            {
                length = int.Parse(line["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        var body = new StringBuilder();
        if (length is { } fixedLength)
        {
            await ReadChars(reader, fixedLength, body, ct);
        }
        else
        {
            // Chunked (RFC 9112 7.1): hex size lines, each chunk followed by CRLF, ending with a zero size.
            for (var size = Convert.ToInt32((await reader.ReadLineAsync(ct) ?? "0").Split(';')[0], 16); size > 0;
                 size = Convert.ToInt32((await reader.ReadLineAsync(ct) ?? "0").Split(';')[0], 16))
            {
                await ReadChars(reader, size, body, ct);
                await reader.ReadLineAsync(ct);
            }
        }

        return ((HttpStatusCode)int.Parse(statusLine.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture), body.ToString());
    }

    /// <summary>Reads <paramref name="count"/> characters (the answers here are ASCII, so characters are bytes).</summary>
    private static async Task ReadChars(StreamReader reader, int count, StringBuilder into, CancellationToken ct)
    {
        var buffer = new char[count];
        var read = 0;
        while (read < count)
        {
            var n = await reader.ReadAsync(buffer.AsMemory(read), ct);
            if (n == 0)
            {
                break;
            }

            read += n;
        }

        into.Append(buffer, 0, read);
    }

    private Task<Reply> Put(string nai, string json) =>
        Send(HttpMethod.Put, $"/api/subscribers/{nai}", new StringContent(json, Encoding.UTF8, "application/json"));

    private async Task<Reply> Send(HttpMethod method, string path, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        using var response = await host.Http.SendAsync(request, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        AssertNoKeyMaterial(text);
        if (text.Length > 0)
        {
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        }

        return new Reply(response.StatusCode, text, response.Headers.Location?.OriginalString);
    }

    /// <summary>No response may carry a secret or key, in any of the encodings the API accepts.</summary>
    private static void AssertNoKeyMaterial(string body)
    {
        string[] forbidden =
        [
            Secret, SecretHex, Convert.ToBase64String(Encoding.UTF8.GetBytes(Secret)), PskText, PskBase64,
            "keyproxy-demo-secret", "keyproxy-demo-psk", "secret\"", "\"key\"", "PRIVATE KEY",
        ];
        foreach (var value in forbidden)
        {
            Assert.DoesNotContain(value, body, StringComparison.OrdinalIgnoreCase);
        }
    }

    private sealed record Reply(HttpStatusCode Status, string Text, string? Location)
    {
        public JsonDocument Json => JsonDocument.Parse(Text);
    }
}
