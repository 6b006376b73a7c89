using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace KeyProxy.Silo.Security;

/// <summary>
/// Makes admin tokens: compact JWS (RFC 7515) JWTs (RFC 7519) signed HS256 (RFC 7518 3.2) with <c>iss</c>, <c>aud</c>,
/// <c>sub</c>, <c>iat</c>, <c>nbf</c>, <c>exp</c>, <c>jti</c> and the roles as an array claim. Development mode's token
/// (<see cref="DevelopmentAdminToken"/>) and the tests' tokens are made here; in production an identity provider issues them.
/// </summary>
public static class AdminTokenIssuer
{
    /// <summary>Bytes of an HMAC signing key made here (and the least a configured one may have): 256 bits.</summary>
    public const int KeySize = 32;

    public static string Create(byte[] signingKey, string issuer, string audience, string subject, IReadOnlyCollection<string> roles,
        DateTimeOffset notBefore, DateTimeOffset expires, string roleClaim = AdminAuthOptions.DefaultRoleClaim)
    {
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = notBefore.UtcDateTime,
            NotBefore = notBefore.UtcDateTime,
            Expires = expires.UtcDateTime,
            Claims = new Dictionary<string, object>
            {
                ["sub"] = subject,
                ["jti"] = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
                [roleClaim] = roles.ToArray(),
            },
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(signingKey), SecurityAlgorithms.HmacSha256),
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }
}
