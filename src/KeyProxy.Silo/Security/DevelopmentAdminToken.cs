using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace KeyProxy.Silo.Security;

/// <summary>
/// Development mode's admin credentials when <c>KeyProxy:AdminAuth</c> is not configured (issue 16 item 5): a 256-bit HMAC
/// signing key (<see cref="SigningKeyFileName"/>, base64), a token with both roles (<see cref="TokenFileName"/>) and one
/// with the read role alone (<see cref="ReadTokenFileName"/>, for Prometheus), each valid a year, in the development
/// directory (0700) as 0600 files written under its lock (<see cref="DirectoryLock"/>), as the development CA is; reused
/// while they verify and are more than 30 days from expiry, so local silos and tools agree. Never for production.
/// </summary>
public static class DevelopmentAdminToken
{
    public const string SigningKeyFileName = "admin-signing.key";
    public const string TokenFileName = "admin.token";
    public const string ReadTokenFileName = "admin-read.token";
    public const string Issuer = "keyproxy-development";
    public const string Audience = "keyproxy-admin";

    private static readonly TimeSpan Lifetime = TimeSpan.FromDays(365);
    private static readonly TimeSpan RenewBefore = TimeSpan.FromDays(30);

    public sealed record Result(string SigningKeyPath, byte[] SigningKey, string TokenPath, string ReadTokenPath, bool Created);

    /// <summary>The key and tokens in <paramref name="directory"/>, made there when absent, expiring or signed by another key.</summary>
    public static Result LoadOrCreate(string directory)
    {
        var keyPath = Path.Combine(directory, SigningKeyFileName);
        try
        {
            if (OperatingSystem.IsWindows()) Directory.CreateDirectory(directory);
            else Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            using var exclusive = DirectoryLock.Acquire(directory);
            var created = false;
            if (!File.Exists(keyPath))
            {
                created = DevelopmentCertificateAuthority.WriteReplacing(keyPath, Convert.ToBase64String(RandomNumberGenerator.GetBytes(AdminTokenIssuer.KeySize)) + "\n");
            }

            var key = Convert.FromBase64String(File.ReadAllText(keyPath).Trim());
            if (key.Length < AdminTokenIssuer.KeySize) throw new FormatException($"it holds {key.Length} bytes, fewer than {AdminTokenIssuer.KeySize}");
            var tokenPath = Path.Combine(directory, TokenFileName);
            var readPath = Path.Combine(directory, ReadTokenFileName);
            created |= EnsureToken(tokenPath, key, "development operator", [AdminRoles.Read, AdminRoles.Provision]);
            created |= EnsureToken(readPath, key, "development monitoring", [AdminRoles.Read]);
            return new Result(keyPath, key, tokenPath, readPath, created);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            throw new SiloConfigurationException([
                $"Development mode's admin token, {keyPath}: {e.Message} (set {Storage.SecretsAtRestOptions.SectionName}:DevelopmentKeyDirectory " +
                $"to another directory, or configure {AdminAuthOptions.SectionName}:Issuer, Audience and SigningKeys)"]);
        }
    }

    private static bool EnsureToken(string path, byte[] key, string subject, string[] roles)
    {
        if (File.Exists(path) && StillGood(File.ReadAllText(path).Trim(), key, roles)) return false;
        var now = DateTimeOffset.UtcNow;
        var token = AdminTokenIssuer.Create(key, Issuer, Audience, subject, roles, now.AddMinutes(-5), now + Lifetime);
        return DevelopmentCertificateAuthority.WriteReplacing(path, token + "\n");
    }

    private static bool StillGood(string token, byte[] key, string[] roles)
    {
        var result = new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = Issuer,
            ValidAudience = Audience,
            IssuerSigningKey = new SymmetricSecurityKey(key),
            ClockSkew = TimeSpan.Zero,
            LifetimeValidator = (_, expires, _, _) => expires is { } e && e - DateTime.UtcNow > RenewBefore,
        }).GetAwaiter().GetResult();
        return result.IsValid && roles.All(r => result.ClaimsIdentity.HasClaim(AdminAuthOptions.DefaultRoleClaim, r));
    }
}
