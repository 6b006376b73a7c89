namespace KeyProxy.Silo.Security;

/// <summary>
/// "KeyProxy:AdminAuth" (issue 16 item 1): bearer JWTs on the admin API, the dashboard and /metrics. A token is accepted
/// when its signature verifies with one of <see cref="SigningKeys"/>, its <c>iss</c> is <see cref="Issuer"/>, its
/// <c>aud</c> is <see cref="Audience"/> and it is within its <c>nbf</c>/<c>exp</c> (RFC 7519 4.1), so an operator's own
/// identity provider can issue them. With none of the three set, Development mode makes a signing key and a token with
/// both roles (<see cref="DevelopmentAdminToken"/>); Production mode refuses to start.
/// </summary>
public sealed class AdminAuthOptions
{
    public const string SectionName = KeyProxySiloOptions.SectionName + ":AdminAuth";

    public const string DefaultRoleClaim = "roles";

    /// <summary>Tokens required; false is refused in Production mode (measurements and debugging only).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The <c>iss</c> every token must carry.</summary>
    public string? Issuer { get; set; }

    /// <summary>The <c>aud</c> every token must carry (one of its audiences).</summary>
    public string? Audience { get; set; }

    /// <summary>
    /// Files with the keys a token may be signed with (any one verifies): a PEM public key or certificate (RSA or EC:
    /// RS256/PS256/ES256 tokens of an identity provider), or a base64 HMAC key of at least 32 bytes (HS256). Files, not
    /// values, so keys are kept out of the configuration and its logs; more than one lets keys rotate.
    /// </summary>
    public List<string> SigningKeys { get; set; } = [];

    /// <summary>The claim holding the roles (a string or an array): <c>roles</c> by default (RFC 9068 7.2.1.1).</summary>
    public string RoleClaim { get; set; } = DefaultRoleClaim;

    /// <summary>Allowed clock difference for <c>nbf</c> and <c>exp</c>.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Whether Prometheus' <c>/metrics</c> answers without a token. False (the default): it needs the read role, and a
    /// Prometheus scrape config gives a read token (infra/prometheus/prometheus.yml, <c>authorization.credentials_file</c>).
    /// </summary>
    public bool AnonymousMetrics { get; set; }

    public bool IsConfigured => Issuer is not null || Audience is not null || SigningKeys.Count > 0;

    public IReadOnlyList<string> Validate(bool production)
    {
        var errors = new List<string>();
        if (!Enabled)
        {
            if (production)
                errors.Add($"{SectionName}:Enabled=false is refused in Production mode: the admin API and dashboard must require tokens (issue 16)");
            return errors;
        }

        if (string.IsNullOrWhiteSpace(RoleClaim)) errors.Add($"{SectionName}:RoleClaim is blank");
        if (ClockSkew < TimeSpan.Zero || ClockSkew > TimeSpan.FromMinutes(10))
            errors.Add($"{SectionName}:ClockSkew {ClockSkew} is not between 0 and 10 minutes");
        if (SettingGroup.Problem(SectionName, [(nameof(Issuer), !string.IsNullOrWhiteSpace(Issuer)), (nameof(Audience), !string.IsNullOrWhiteSpace(Audience)),
                (nameof(SigningKeys), SigningKeys.Count > 0)], production,
                "the admin API needs the issuer and audience of its tokens and the key files they are signed with (e.g. SigningKeys:0=/etc/keyproxy/idp.pem)",
                "give Issuer, Audience and SigningKeys together, or none of them for Development mode's local token") is { } problem)
            errors.Add(problem);
        return errors;
    }
}
