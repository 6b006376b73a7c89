using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using KeyProxy.Silo.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace KeyProxy.Silo.Tests;

/// <summary>
/// Hostile tests of the admin listener (issue 16 items 1, 2 and 6): a silo in Development mode on a real Kestrel port with
/// its own development directory, reached by a real HttpClient. Tokens are minted with the silo's own signing key (or a
/// forged one) by <see cref="AdminTokenIssuer"/>. Every refusal must have its status, be counted by reason
/// (<see cref="AdminAuthRefusals"/> and the Prometheus counter) and leave the subscriber as it was; no token text may
/// appear in any log record, down to Debug and Kestrel's Trace.
/// </summary>
public sealed class AdminAuthTests : IAsyncLifetime
{
    private const string Alice = "alice@keyproxy.test";
    private const string Mallory = "mallory@keyproxy.test";
    private readonly string _directory = Directory.CreateTempSubdirectory("keyproxy-admin-auth-").FullName;
    private readonly CapturedLogs _logs = new(LogLevel.Trace);
    private WebApplication? _app;
    private string _baseUrl = "";
    private byte[] _key = [];

    public async ValueTask InitializeAsync()
    {
        _app = KeyProxySiloHost.Build(
        [
            $"--KeyProxy:HttpUrl={KeyProxy.Testing.AdminHttp.Url}", $"--KeyProxy:SiloPort={FreePorts.Next()}", $"--KeyProxy:GatewayPort={FreePorts.Next()}",
            "--KeyProxy:ClusterId=admin-auth-tests", "--KeyProxy:Edge:AccessEndpoint=127.0.0.1:0", $"--KeyProxy:SecretsAtRest:DevelopmentKeyDirectory={_directory}",
            "--Logging:LogLevel:Default=Debug", "--Logging:LogLevel:Orleans=Warning", "--Logging:LogLevel:Microsoft.AspNetCore=Trace",
        ], builder => builder.Logging.AddProvider(_logs));
        await _app.StartAsync();
        _baseUrl = KeyProxySiloHost.BaseUrl(_app);
        _key = Convert.FromBase64String(File.ReadAllText(Path.Combine(_directory, DevelopmentAdminToken.SigningKeyFileName)).Trim());
        // The demo subscribers are provisioned by a hosted service right after start.
        using var admin = Admin();
        for (var i = 0; i < 100 && (await admin.GetAsync($"/api/subscribers/{Alice}")).StatusCode != HttpStatusCode.OK; i++) await Task.Delay(100);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        Directory.Delete(_directory, recursive: true);
    }

    private AdminAuthRefusals Refusals => _app!.Services.GetRequiredService<AdminAuthRefusals>();

    private HttpClient Admin() => KeyProxy.Testing.AdminHttp.Client(_baseUrl, directory: _directory);

    private HttpClient With(string? token) => KeyProxy.Testing.AdminHttp.WithToken(_baseUrl, token, _directory);

    private string Token(string[] roles, byte[]? key = null, string issuer = DevelopmentAdminToken.Issuer, string audience = DevelopmentAdminToken.Audience,
        TimeSpan? expiresIn = null)
    {
        var expires = DateTimeOffset.UtcNow + (expiresIn ?? TimeSpan.FromHours(1));
        return AdminTokenIssuer.Create(key ?? _key, issuer, audience, "hostile test", roles, expires.AddHours(-2), expires);
    }

    [Fact]
    public async Task Bad_tokens_and_wrong_roles_are_refused_counted_and_change_nothing_and_no_token_is_logged()
    {
        var ct = TestContext.Current.CancellationToken;
        using var admin = Admin();
        var aliceBefore = await admin.GetStringAsync($"/api/subscribers/{Alice}", ct);

        var expired = Token([AdminRoles.Read, AdminRoles.Provision], expiresIn: TimeSpan.FromHours(-1));
        var forged = Token([AdminRoles.Read, AdminRoles.Provision], key: RandomNumberGenerator.GetBytes(32));
        var wrongAudience = Token([AdminRoles.Read, AdminRoles.Provision], audience: "another-service");
        var wrongIssuer = Token([AdminRoles.Read, AdminRoles.Provision], issuer: "https://idp.example/");
        var readOnly = Token([AdminRoles.Read]);
        var roleless = Token([]);
        var provisionOnly = Token([AdminRoles.Provision]);
        var unsigned = Unsigned([AdminRoles.Read, AdminRoles.Provision]);
        var cases = new (string Name, string? Token, HttpMethod Method, string Path, HttpStatusCode Status, string Reason)[]
        {
            ("no token GET", null, HttpMethod.Get, $"/api/subscribers/{Alice}", HttpStatusCode.Unauthorized, AdminAuthRefusals.Missing),
            ("no token DELETE", null, HttpMethod.Delete, $"/api/subscribers/{Alice}", HttpStatusCode.Unauthorized, AdminAuthRefusals.Missing),
            ("expired PUT", expired, HttpMethod.Put, $"/api/subscribers/{Alice}", HttpStatusCode.Unauthorized, AdminAuthRefusals.Expired),
            ("forged DELETE", forged, HttpMethod.Delete, $"/api/subscribers/{Alice}", HttpStatusCode.Unauthorized, AdminAuthRefusals.BadSignature),
            ("forged GET", forged, HttpMethod.Get, "/api/subscribers", HttpStatusCode.Unauthorized, AdminAuthRefusals.BadSignature),
            ("wrong audience PUT", wrongAudience, HttpMethod.Put, $"/api/subscribers/{Mallory}", HttpStatusCode.Unauthorized, AdminAuthRefusals.WrongAudience),
            ("wrong issuer DELETE", wrongIssuer, HttpMethod.Delete, $"/api/subscribers/{Alice}", HttpStatusCode.Unauthorized, AdminAuthRefusals.WrongIssuer),
            ("unsigned (alg none) PUT", unsigned, HttpMethod.Put, $"/api/subscribers/{Mallory}", HttpStatusCode.Unauthorized, AdminAuthRefusals.BadSignature),
            ("garbage", "not-a-jwt", HttpMethod.Get, "/api/edge", HttpStatusCode.Unauthorized, AdminAuthRefusals.Malformed),
            ("read token DELETE", readOnly, HttpMethod.Delete, $"/api/subscribers/{Alice}", HttpStatusCode.Forbidden, AdminAuthRefusals.WrongRole),
            ("read token PUT", readOnly, HttpMethod.Put, $"/api/subscribers/{Mallory}", HttpStatusCode.Forbidden, AdminAuthRefusals.WrongRole),
            ("read token POST", readOnly, HttpMethod.Post, "/api/subscribers", HttpStatusCode.Forbidden, AdminAuthRefusals.WrongRole),
            ("no roles GET", roleless, HttpMethod.Get, $"/api/subscribers/{Alice}", HttpStatusCode.Forbidden, AdminAuthRefusals.WrongRole),
            ("provision only GET", provisionOnly, HttpMethod.Get, "/api/sessions", HttpStatusCode.Forbidden, AdminAuthRefusals.WrongRole),
            ("dashboard, no token", null, HttpMethod.Get, "/dashboard/", HttpStatusCode.Unauthorized, AdminAuthRefusals.Missing),
            ("dashboard data, no token", null, HttpMethod.Get, "/dashboard/DashboardCounters", HttpStatusCode.Unauthorized, AdminAuthRefusals.Missing),
            ("dashboard, expired", expired, HttpMethod.Get, "/dashboard/", HttpStatusCode.Unauthorized, AdminAuthRefusals.Expired),
            ("metrics, no token", null, HttpMethod.Get, "/metrics", HttpStatusCode.Unauthorized, AdminAuthRefusals.Missing),
            ("unknown path, no token", null, HttpMethod.Get, "/api/nothing-here", HttpStatusCode.Unauthorized, AdminAuthRefusals.Missing),
        };
        var expected = cases.GroupBy(c => c.Reason).ToDictionary(g => g.Key, g => Refusals.Count(g.Key) + g.Count());
        var metricsBefore = await RefusalSeries(ct);

        foreach (var c in cases)
        {
            using var client = With(c.Token);
            using var request = new HttpRequestMessage(c.Method, c.Path);
            if (c.Method == HttpMethod.Put || c.Method == HttpMethod.Post)
                request.Content = new StringContent("""{ "msisdn": null, "secret": "text:mallory-wants-in-0123", "proxyService": false }""", Encoding.UTF8, "application/json");
            using var response = await client.SendAsync(request, ct);
            Assert.True(c.Status == response.StatusCode, $"{c.Name}: {(int)response.StatusCode}, expected {(int)c.Status}");
            if (c.Status == HttpStatusCode.Unauthorized) Assert.Contains("Bearer", response.Headers.WwwAuthenticate.ToString());
        }

        // Counted by reason, here and on /metrics.
        foreach (var (reason, count) in expected) Assert.True(count == Refusals.Count(reason), $"{reason}: {Refusals.Count(reason)}, expected {count}");
        // The Prometheus exporter caches a scrape for 300 ms: read again until it is newer.
        var metricsAfter = await RefusalSeries(ct);
        for (var i = 0; i < 20 && expected.Keys.Any(r => metricsAfter.GetValueOrDefault(r) - metricsBefore.GetValueOrDefault(r) < cases.Count(c => c.Reason == r)); i++)
        {
            await Task.Delay(250, ct);
            metricsAfter = await RefusalSeries(ct);
        }

        foreach (var reason in expected.Keys)
        {
            var added = metricsAfter.GetValueOrDefault(reason) - metricsBefore.GetValueOrDefault(reason);
            Assert.True(added >= cases.Count(c => c.Reason == reason), $"/metrics {reason}: +{added}");
        }

        // Nothing changed: alice as she was (same version), mallory never created.
        Assert.Equal(aliceBefore, await admin.GetStringAsync($"/api/subscribers/{Alice}", ct));
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/api/subscribers/{Mallory}", ct)).StatusCode);

        // Logged as warnings naming the reason, and no token text anywhere in the log, at any level.
        var records = _logs.Records;
        Assert.Contains(records, r => r.Level == LogLevel.Warning && r.Message.Contains("refused: DELETE /api/subscribers/alice@keyproxy.test 403 (wrong_role", StringComparison.Ordinal));
        Assert.Contains(records, r => r.Message.Contains("(expired)", StringComparison.Ordinal));
        var developmentToken = KeyProxy.Testing.AdminHttp.Credentials(_directory).Token!;
        foreach (var token in new[] { expired, forged, wrongAudience, wrongIssuer, readOnly, roleless, provisionOnly, unsigned, developmentToken })
        {
            var parts = token.Split('.');
            foreach (var part in new[] { token, parts[1], parts[0] + "." + parts[1] }.Concat(parts.Length > 2 && parts[2].Length > 0 ? [parts[2]] : []))
                Assert.DoesNotContain(records, r => r.Message.Contains(part, StringComparison.Ordinal) || (r.Exception?.ToString().Contains(part, StringComparison.Ordinal) ?? false));
        }

        Assert.True(records.Count > 20, $"only {records.Count} log records: is the capture on?");
    }

    [Fact]
    public async Task The_right_roles_are_let_through()
    {
        var ct = TestContext.Current.CancellationToken;
        var before = Refusals.Total;
        using (var reader = With(Token([AdminRoles.Read])))
        {
            Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync($"/api/subscribers/{Alice}", ct)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/dashboard/", ct)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/metrics", ct)).StatusCode);
        }

        using var both = With(Token([AdminRoles.Read, AdminRoles.Provision]));
        var put = await both.PutAsync("/api/subscribers/trent@keyproxy.test",
            new StringContent("""{ "msisdn": null, "secret": "text:trent-secret-0123456789", "proxyService": false }""", Encoding.UTF8, "application/json"), ct);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await both.DeleteAsync("/api/subscribers/trent@keyproxy.test", ct)).StatusCode);
        Assert.Equal(before, Refusals.Total);
    }

    [Fact]
    public async Task Plaintext_HTTP_to_the_HTTPS_port_and_a_client_not_trusting_the_CA_get_no_answer_and_are_counted()
    {
        var ct = TestContext.Current.CancellationToken;
        var before = Refusals.Count(AdminAuthRefusals.TlsFailed);
        var port = new Uri(_baseUrl).Port;
        using (var plaintext = new HttpClient { Timeout = TimeSpan.FromSeconds(10) })
        {
            await Assert.ThrowsAsync<HttpRequestException>(() => plaintext.GetAsync($"http://127.0.0.1:{port}/api/subscribers/{Alice}", ct));
        }

        // The machine's trust store does not know the development CA.
        using (var untrusting = new HttpClient { Timeout = TimeSpan.FromSeconds(10) })
        {
            var e = await Assert.ThrowsAsync<HttpRequestException>(() => untrusting.GetAsync($"{_baseUrl}/api/subscribers/{Alice}", ct));
            Assert.IsType<System.Security.Authentication.AuthenticationException>(e.InnerException);
        }

        // Counted when Kestrel closes each connection (at least one each: HttpClient may try a refused connection again).
        for (var i = 0; i < 50 && Refusals.Count(AdminAuthRefusals.TlsFailed) < before + 2; i++) await Task.Delay(100, ct);
        Assert.InRange(Refusals.Count(AdminAuthRefusals.TlsFailed), before + 2, before + 8);
        Assert.Equal(0, Refusals.Total - Refusals.Count(AdminAuthRefusals.TlsFailed));
        Assert.Contains(_logs.Records, r => r.Message.Contains("carried no HTTPS request (tls_failed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_dashboard_sign_in_sets_an_HttpOnly_cookie_for_a_read_token_and_refuses_a_forged_one()
    {
        var ct = TestContext.Current.CancellationToken;
        using var handler = (SocketsHttpHandler)KeyProxy.AdminAccess.AdminHttpHandler.Create(KeyProxy.Testing.AdminHttp.Credentials(_directory).CaPath);
        handler.AllowAutoRedirect = false;
        handler.UseCookies = true;
        using var browser = new HttpClient(handler) { BaseAddress = new Uri(_baseUrl) };
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync(DashboardLogin.LoginPath, ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync("/dashboard/", ct)).StatusCode);

        var forged = Token([AdminRoles.Read], key: RandomNumberGenerator.GetBytes(32));
        var before = Refusals.Count(AdminAuthRefusals.BadSignature);
        var refused = await browser.PostAsync(DashboardLogin.LoginPath, new FormUrlEncodedContent([new("token", forged)]), ct);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(before + 1, Refusals.Count(AdminAuthRefusals.BadSignature));
        Assert.False(refused.Headers.Contains("Set-Cookie"));

        var signedIn = await browser.PostAsync(DashboardLogin.LoginPath,
            new FormUrlEncodedContent([new("token", Token([AdminRoles.Read])), new("then", "/dashboard/#/grains")]), ct);
        Assert.Equal(HttpStatusCode.SeeOther, signedIn.StatusCode);
        Assert.Equal("/dashboard/#/grains", signedIn.Headers.Location?.OriginalString);
        var cookie = Assert.Single(signedIn.Headers.GetValues("Set-Cookie"));
        foreach (var attribute in new[] { "httponly", "secure", "samesite=strict", "path=/dashboard" }) Assert.Contains(attribute, cookie.ToLowerInvariant());
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/dashboard/", ct)).StatusCode);
        // The cookie is for the dashboard only: the API still wants the header.
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync("/api/subscribers", ct)).StatusCode);
    }

    /// <summary>A token with <c>"alg": "none"</c> and no signature (RFC 7519 6.1), which must never be accepted.</summary>
    private static string Unsigned(string[] roles)
    {
        static string Part(JsonObject o) => Convert.ToBase64String(Encoding.UTF8.GetBytes(o.ToJsonString())).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return Part(new JsonObject { ["alg"] = "none", ["typ"] = "JWT" }) + "." + Part(new JsonObject
        {
            ["iss"] = DevelopmentAdminToken.Issuer, ["aud"] = DevelopmentAdminToken.Audience, ["sub"] = "no signature",
            ["nbf"] = now - 60, ["exp"] = now + 3600, ["roles"] = new JsonArray(roles.Select(r => (JsonNode)r!).ToArray()),
        }) + ".";
    }

    /// <summary>keyproxy_admin_auth_refusals_total by reason, summed over status codes, from a scrape with the admin token.</summary>
    private async Task<Dictionary<string, double>> RefusalSeries(CancellationToken ct)
    {
        using var admin = Admin();
        var text = await admin.GetStringAsync("/metrics", ct);
        var series = new Dictionary<string, double>();
        foreach (var line in text.Split('\n').Where(l => l.StartsWith("keyproxy_admin_auth_refusals_total{", StringComparison.Ordinal)))
        {
            var reason = System.Text.RegularExpressions.Regex.Match(line, "reason=\"([a-z_]+)\"").Groups[1].Value;
            series[reason] = series.GetValueOrDefault(reason) + double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        }

        return series;
    }
}
