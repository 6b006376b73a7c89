using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;

namespace KeyProxy.Silo.Tests;

/// <summary>The Orleans dashboard, rendered by a real headless Chromium, lists the KeyProxy grain types.</summary>
[Collection(SiloHostCollection.Name)]
public sealed partial class DashboardTests(SiloHostFixture host)
{
    private const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task The_grains_page_lists_the_KeyProxy_grain_types()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing; scripts/test.sh installs Debian's chromium package");

        // Activate the grains so they have statistics to show.
        Assert.True((await host.Http.GetAsync("/api/subscribers", TestContext.Current.CancellationToken)).IsSuccessStatusCode);
        Assert.True((await host.Http.GetAsync("/api/subscribers/alice@keyproxy.test", TestContext.Current.CancellationToken)).IsSuccessStatusCode);
        Assert.True((await host.Http.GetAsync("/dashboard/", TestContext.Current.CancellationToken)).IsSuccessStatusCode);
        var grains = host.Services.GetRequiredService<IGrainFactory>();
        var edge = host.Services.GetRequiredService<KeyProxy.Edge.EdgeGateway>();
        Assert.Equal(edge.EdgeId, (await grains.GetGrain<KeyProxy.Abstractions.IEdgeGrain>(edge.EdgeId).GetStatus()).EdgeId);
        Assert.Null(await grains.GetGrain<KeyProxy.Abstractions.IProxySessionGrain>(Guid.NewGuid()).GetInfo());

        // The dashboard samples grain statistics every second; a render right after start may precede the first sample.
        var text = "";
        for (var attempt = 0; attempt < 4; attempt++)
        {
            text = await RenderedText(host.BaseUrl, "/dashboard/#/grains");
            if (text.Contains("SubscriberDirectoryGrain", StringComparison.Ordinal) && text.Contains("ProxySessionGrain", StringComparison.Ordinal)
                && text.Contains("EdgeGrain", StringComparison.Ordinal))
            {
                break;
            }

            await Task.Delay(TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
        }

        Assert.Contains("Orleans Dashboard", text);
        Assert.Contains("Activations by Type", text);
        Assert.Matches(@"\bSubscriberGrain \d+", text);
        Assert.Matches(@"\bSubscriberDirectoryGrain \d+", text);
        Assert.Matches(@"\bProxySessionGrain \d+", text);
        Assert.Matches(@"\bEdgeGrain \d+", text);
    }

    /// <summary>
    /// The page's text after the single-page app rendered it: tags and scripts removed, whitespace collapsed. Chromium
    /// signs in as an operator would (issue 16): the sign-in page with the admin token in its URL fragment, which sets the
    /// dashboard cookie and goes on to <paramref name="page"/>; it trusts the listener's certificate by its key alone
    /// (--ignore-certificate-errors-spki-list, the SHA-256 of Development mode's admin-https.pem SPKI).
    /// </summary>
    private static async Task<string> RenderedText(string baseUrl, string page)
    {
        var credentials = KeyProxy.Testing.AdminHttp.Credentials();
        using var listener = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(
            Path.Combine(Path.GetDirectoryName(credentials.CaPath)!, KeyProxy.Silo.Security.AdminHttps.DevelopmentCertificateName + ".pem"));
        var spki = Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(listener.PublicKey.ExportSubjectPublicKeyInfo()));
        var url = $"{baseUrl}{KeyProxy.Silo.Security.DashboardLogin.LoginPath}#token={credentials.Token}&then={Uri.EscapeDataString(page)}";
        var profile = Directory.CreateTempSubdirectory("keyproxy-chromium-");
        try
        {
            var (exitCode, dom, stderr) = await ProcessRunner.Run(Chromium,
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                $"--user-data-dir={profile.FullName}", $"--ignore-certificate-errors-spki-list={spki}", "--virtual-time-budget=10000", "--dump-dom", url,
            ], TimeSpan.FromSeconds(60));
            Assert.True(exitCode == 0, $"chromium exited {exitCode}: {stderr}");
            var withoutScripts = ScriptOrStyle().Replace(dom, " ");
            return Whitespace().Replace(Tag().Replace(withoutScripts, " "), " ");
        }
        finally
        {
            profile.Delete(recursive: true);
        }
    }

    [GeneratedRegex("<(script|style)[^>]*>.*?</\\1>", RegexOptions.Singleline | RegexOptions.IgnoreCase)]
    private static partial Regex ScriptOrStyle();

    [GeneratedRegex("<[^>]+>")]
    private static partial Regex Tag();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
