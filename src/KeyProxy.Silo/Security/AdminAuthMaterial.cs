using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.IdentityModel.Tokens;

namespace KeyProxy.Silo.Security;

/// <summary>
/// What the admin API checks tokens with, loaded at start: the configured issuer, audience and signing key files, or
/// Development mode's (<see cref="DevelopmentAdminToken"/>). Every problem is a <see cref="SiloConfigurationException"/>
/// (exit code 2) naming the file, never key material.
/// </summary>
public sealed class AdminAuthMaterial
{
    private AdminAuthMaterial(AdminAuthOptions options, string issuer, string audience, IReadOnlyList<SecurityKey> keys, string? developmentTokenPath)
    {
        Options = options;
        Issuer = issuer;
        Audience = audience;
        SigningKeys = keys;
        DevelopmentTokenPath = developmentTokenPath;
    }

    public AdminAuthOptions Options { get; }

    public string Issuer { get; }

    public string Audience { get; }

    public IReadOnlyList<SecurityKey> SigningKeys { get; }

    /// <summary>Development mode's token with both roles, or null when tokens come from the operator's identity provider.</summary>
    public string? DevelopmentTokenPath { get; }

    /// <summary>Signature, issuer, audience and lifetime all required (RFC 7519 4.1.1, 4.1.3, 4.1.4, 4.1.5); roles by <see cref="AdminAuthOptions.RoleClaim"/>.</summary>
    public TokenValidationParameters ValidationParameters() => new()
    {
        ValidIssuer = Issuer,
        ValidAudience = Audience,
        IssuerSigningKeys = SigningKeys,
        ValidateIssuer = true,
        ValidateAudience = true,
        ValidateLifetime = true,
        RequireExpirationTime = true,
        RequireSignedTokens = true,
        ValidateIssuerSigningKey = true,
        ClockSkew = Options.ClockSkew,
        RoleClaimType = Options.RoleClaim,
        NameClaimType = "sub",
    };

    /// <summary>The material of <paramref name="options"/>; null when tokens are off (Development only).</summary>
    public static AdminAuthMaterial? Load(AdminAuthOptions options, bool production, string developmentDirectory, TextWriter notice)
    {
        if (!options.Enabled)
        {
            notice.WriteLine($"KeyProxy admin API: tokens off ({AdminAuthOptions.SectionName}:Enabled=false): anyone reaching the listener can provision");
            return null;
        }

        if (!options.IsConfigured && !production)
        {
            var development = DevelopmentAdminToken.LoadOrCreate(developmentDirectory);
            notice.WriteLine($"KeyProxy admin API: Development mode, admin token {(development.Created ? "made" : "reused")}: {development.TokenPath} " +
                $"(roles {AdminRoles.Read} and {AdminRoles.Provision}; {development.ReadTokenPath}: {AdminRoles.Read} only), signing key " +
                $"{development.SigningKeyPath} (development only: configure {AdminAuthOptions.SectionName}:Issuer, Audience and SigningKeys for production)");
            return new AdminAuthMaterial(options, DevelopmentAdminToken.Issuer, DevelopmentAdminToken.Audience,
                [new SymmetricSecurityKey(development.SigningKey)], development.TokenPath);
        }

        var errors = new List<string>();
        var keys = new List<SecurityKey>();
        foreach (var path in options.SigningKeys)
        {
            try
            {
                keys.Add(ReadKey(path));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or FormatException or ArgumentException)
            {
                errors.Add($"{AdminAuthOptions.SectionName}:SigningKeys '{path}': {e.Message} (a PEM public key or certificate, RSA or EC, or a base64 HMAC key of at least {AdminTokenIssuer.KeySize} bytes)");
            }
        }

        if (errors.Count > 0) throw new SiloConfigurationException(errors);
        notice.WriteLine($"KeyProxy admin API: tokens of issuer '{options.Issuer}' for audience '{options.Audience}', {keys.Count} signing key(s) from {string.Join(", ", options.SigningKeys)}");
        return new AdminAuthMaterial(options, options.Issuer!, options.Audience!, keys, null);
    }

    /// <summary>A verification key from a file: PEM certificate or public key (RSA, EC), else base64 HMAC key bytes.</summary>
    private static SecurityKey ReadKey(string path)
    {
        var text = File.ReadAllText(path);
        if (text.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
        {
            var certificate = X509Certificate2.CreateFromPem(text);
            return certificate.GetRSAPublicKey() is { } rsa ? new RsaSecurityKey(rsa)
                : certificate.GetECDsaPublicKey() is { } ec ? new ECDsaSecurityKey(ec)
                : throw new CryptographicException("the certificate's key is neither RSA nor EC");
        }

        if (text.Contains("-----BEGIN", StringComparison.Ordinal))
        {
            if (text.Contains("PRIVATE KEY", StringComparison.Ordinal))
                throw new FormatException("it holds a private key; give the identity provider's public key or certificate");
            try
            {
                var rsa = RSA.Create();
                rsa.ImportFromPem(text);
                return new RsaSecurityKey(rsa);
            }
            catch (CryptographicException)
            {
                var ec = ECDsa.Create();
                ec.ImportFromPem(text);
                return new ECDsaSecurityKey(ec);
            }
        }

        var key = Convert.FromBase64String(text.Trim());
        return key.Length >= AdminTokenIssuer.KeySize ? new SymmetricSecurityKey(key)
            : throw new FormatException($"the HMAC key has {key.Length} bytes, fewer than {AdminTokenIssuer.KeySize}");
    }
}
