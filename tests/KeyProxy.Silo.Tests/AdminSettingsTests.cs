using KeyProxy.Silo.Security;

namespace KeyProxy.Silo.Tests;

/// <summary>The admin listener's settings (issue 16 items 1, 2 and 5): what Production requires, what goes together, which URLs fit.</summary>
public sealed class AdminSettingsTests
{
    [Fact]
    public void Production_needs_the_token_and_certificate_settings_and_refuses_them_off()
    {
        var missing = Assert.Throws<SiloConfigurationException>(() => KeyProxySiloHost.Build(["--KeyProxy:Mode=Production"]));
        Assert.Contains(missing.Errors, e => e.StartsWith("KeyProxy:AdminAuth:Issuer, KeyProxy:AdminAuth:Audience, KeyProxy:AdminAuth:SigningKeys are required in Production mode", StringComparison.Ordinal));
        Assert.Contains(missing.Errors, e => e.StartsWith("KeyProxy:AdminHttps:CertificatePath, KeyProxy:AdminHttps:PrivateKeyPath are required in Production mode", StringComparison.Ordinal));

        var off = Assert.Throws<SiloConfigurationException>(() => KeyProxySiloHost.Build(
            ["--KeyProxy:Mode=Production", "--KeyProxy:AdminAuth:Enabled=false", "--KeyProxy:AdminHttps:Enabled=false"]));
        Assert.Contains(off.Errors, e => e.StartsWith("KeyProxy:AdminAuth:Enabled=false is refused in Production mode", StringComparison.Ordinal));
        Assert.Contains(off.Errors, e => e.StartsWith("KeyProxy:AdminHttps:Enabled=false is refused in Production mode", StringComparison.Ordinal));
    }

    [Fact]
    public void Development_takes_all_or_none_of_a_group()
    {
        Assert.Empty(new AdminAuthOptions().Validate(production: false));
        Assert.Empty(new AdminHttpsOptions().Validate(production: false));
        var partial = Assert.Single(new AdminAuthOptions { Issuer = "https://idp.example/" }.Validate(production: false));
        Assert.StartsWith("KeyProxy:AdminAuth:Audience, KeyProxy:AdminAuth:SigningKeys are missing: give Issuer, Audience and SigningKeys together", partial);
        Assert.StartsWith("KeyProxy:AdminHttps:PrivateKeyPath is missing", Assert.Single(new AdminHttpsOptions { CertificatePath = "a.pem" }.Validate(production: false)));
        Assert.Empty(new AdminAuthOptions { Issuer = "i", Audience = "a", SigningKeys = ["k"] }.Validate(production: true));
    }

    [Theory]
    [InlineData("--KeyProxy:HttpUrl=http://127.0.0.1:0", "is plaintext HTTP but KeyProxy:AdminHttps is on")]
    [InlineData("--KeyProxy:HttpUrl=https://127.0.0.1:0", "is https:// but KeyProxy:AdminHttps:Enabled is false", "--KeyProxy:AdminHttps:Enabled=false")]
    public void The_listener_URL_must_match_HTTPS_on_or_off(string url, string message, string? extra = null)
    {
        string[] args = extra is null ? [url] : [url, extra];
        var e = Assert.Throws<SiloConfigurationException>(() => KeyProxySiloHost.Build(args));
        Assert.Contains(e.Errors, m => m.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public void A_signing_key_file_that_is_a_private_key_or_too_short_stops_the_silo_naming_the_file()
    {
        var directory = Directory.CreateTempSubdirectory("keyproxy-admin-keys-").FullName;
        try
        {
            var privateKey = Path.Combine(directory, "private.pem");
            using (var ec = System.Security.Cryptography.ECDsa.Create()) File.WriteAllText(privateKey, ec.ExportPkcs8PrivateKeyPem());
            var shortKey = Path.Combine(directory, "short.key");
            File.WriteAllText(shortKey, Convert.ToBase64String(new byte[16]));
            var options = new AdminAuthOptions { Issuer = "i", Audience = "a", SigningKeys = [privateKey, shortKey] };
            var e = Assert.Throws<SiloConfigurationException>(() => AdminAuthMaterial.Load(options, production: true, directory, TextWriter.Null));
            Assert.Contains(e.Errors, m => m.StartsWith($"KeyProxy:AdminAuth:SigningKeys '{privateKey}': it holds a private key", StringComparison.Ordinal));
            Assert.Contains(e.Errors, m => m.StartsWith($"KeyProxy:AdminAuth:SigningKeys '{shortKey}': the HMAC key has 16 bytes", StringComparison.Ordinal));
            Assert.DoesNotContain(e.Errors, m => m.Contains("PRIVATE KEY", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
