namespace KeyProxy.AdminAccess;

/// <summary>
/// Where a tool gets the admin API's bearer token and the CA that issued its HTTPS certificate, as an operator would:
/// an explicit option, else the environment (<see cref="TokenVariable"/>, <see cref="CaVariable"/>), else the files a
/// Development-mode silo wrote in <see cref="DevelopmentDirectory"/> (<c>admin.token</c>, <c>cluster-ca.pem</c>).
/// </summary>
public sealed record AdminCredentials(string? Token, string? CaPath)
{
    public const string TokenVariable = "KEYPROXY_TOKEN";
    public const string CaVariable = "KEYPROXY_CA";
    public const string TokenFileName = "admin.token";
    public const string ReadTokenFileName = "admin-read.token";
    public const string CaFileName = "cluster-ca.pem";

    /// <summary>Development mode's default directory (the silo's <c>KeyProxy:SecretsAtRest:DevelopmentKeyDirectory</c> when unset).</summary>
    public static string DevelopmentDirectory =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".keyproxy", "development");

    /// <summary>Development mode's token with both roles and its CA, read from <paramref name="directory"/> (null parts when absent).</summary>
    public static AdminCredentials Development(string? directory = null, string tokenFile = TokenFileName)
    {
        directory ??= DevelopmentDirectory;
        var token = Path.Combine(directory, tokenFile);
        var ca = Path.Combine(directory, CaFileName);
        return new AdminCredentials(File.Exists(token) ? File.ReadAllText(token).Trim() : null, File.Exists(ca) ? ca : null);
    }

    /// <summary>The options given, else the environment's, else Development mode's files.</summary>
    public static AdminCredentials Resolve(string? token, string? caPath, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        token ??= NonEmpty(environment(TokenVariable));
        caPath ??= NonEmpty(environment(CaVariable));
        if (token is not null && caPath is not null) return new AdminCredentials(token, caPath);
        var development = Development();
        return new AdminCredentials(token ?? development.Token, caPath ?? development.CaPath);
    }

    /// <summary>An HttpClient for <paramref name="baseAddress"/> with these credentials (<see cref="AdminHttpHandler"/>).</summary>
    public HttpClient CreateClient(Uri baseAddress, TimeSpan timeout)
    {
        var http = new HttpClient(AdminHttpHandler.Create(CaPath)) { BaseAddress = baseAddress, Timeout = timeout };
        if (!string.IsNullOrEmpty(Token)) http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Token);
        return http;
    }

    /// <summary>Never the token itself.</summary>
    public override string ToString() => $"AdminCredentials(token {(Token is null ? "none" : "given")}, CA {CaPath ?? "system trust"})";

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
