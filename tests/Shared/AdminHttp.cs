using KeyProxy.AdminAccess;

namespace KeyProxy.Testing;

/// <summary>
/// How every test reaches a silo's admin listener, as an operator would (issue 16): HTTPS trusting the CA of Development
/// mode's directory (only it: <see cref="AdminHttpHandler"/>) with the admin token the silo wrote there. The one place
/// tests build such clients; silos under test listen on <see cref="Url"/>.
/// </summary>
public static class AdminHttp
{
    /// <summary>A free-port HTTPS listener address for <c>KeyProxy:HttpUrl</c>.</summary>
    public const string Url = "https://127.0.0.1:0";

    /// <summary>Development mode's token (both roles) and CA, from <paramref name="directory"/> (default ~/.keyproxy/development).</summary>
    public static AdminCredentials Credentials(string? directory = null) => AdminCredentials.Development(directory);

    /// <summary>An operator's client: the CA trusted, the admin token sent.</summary>
    public static HttpClient Client(string baseUrl, TimeSpan? timeout = null, string? directory = null) =>
        Credentials(directory).CreateClient(new Uri(baseUrl), timeout ?? TimeSpan.FromSeconds(30));

    public static HttpClient Client(Uri baseUrl, TimeSpan? timeout = null, string? directory = null) => Client(baseUrl.ToString(), timeout, directory);

    /// <summary>The CA trusted, with <paramref name="token"/> (null: no Authorization header).</summary>
    public static HttpClient WithToken(string baseUrl, string? token, string? directory = null) =>
        (Credentials(directory) with { Token = token }).CreateClient(new Uri(baseUrl), TimeSpan.FromSeconds(30));

    /// <summary>
    /// Admin listener settings as an operator gives them in Production mode (<c>KeyProxy:AdminHttps</c> certificate files,
    /// <c>KeyProxy:AdminAuth</c> issuer, audience and signing key file), made in <paramref name="directory"/> by the
    /// development CA and token code; clients then use <see cref="Client(string, TimeSpan?, string?)"/> with the same directory.
    /// </summary>
    public static Dictionary<string, string> ProductionSettings(string directory)
    {
        var ca = KeyProxy.Silo.Security.DevelopmentCertificateAuthority.LoadOrCreate(directory);
        var certificate = ca.LoadOrIssue("admin-https", ["localhost"], [System.Net.IPAddress.Loopback, System.Net.IPAddress.IPv6Loopback], serverAuth: true, clientAuth: false);
        var token = KeyProxy.Silo.Security.DevelopmentAdminToken.LoadOrCreate(directory);
        return new Dictionary<string, string>
        {
            ["KeyProxy:AdminHttps:CertificatePath"] = certificate.Path,
            ["KeyProxy:AdminHttps:PrivateKeyPath"] = certificate.Path,
            ["KeyProxy:AdminAuth:Issuer"] = KeyProxy.Silo.Security.DevelopmentAdminToken.Issuer,
            ["KeyProxy:AdminAuth:Audience"] = KeyProxy.Silo.Security.DevelopmentAdminToken.Audience,
            ["KeyProxy:AdminAuth:SigningKeys:0"] = token.SigningKeyPath,
        };
    }

    /// <summary><see cref="ProductionSettings"/> as command-line arguments.</summary>
    public static string[] ProductionArguments(string directory) => ProductionSettings(directory).Select(s => $"--{s.Key}={s.Value}").ToArray();

    /// <summary><see cref="ProductionSettings"/> as environment variables (<c>KeyProxy__AdminAuth__Issuer</c>).</summary>
    public static Dictionary<string, string> ProductionEnvironment(string directory) =>
        ProductionSettings(directory).ToDictionary(s => s.Key.Replace(":", "__", StringComparison.Ordinal), s => s.Value);

    /// <summary>
    /// For tests that write HTTP by hand: TLS over <paramref name="tcp"/> to <paramref name="host"/>, the listener's
    /// certificate checked against the same CA, and the header line (with CRLF) carrying the same token.
    /// </summary>
    public static async Task<(Stream Stream, string AuthorizationLine)> RawAsync(System.Net.Sockets.TcpClient tcp, string host, CancellationToken ct, string? directory = null)
    {
        var credentials = Credentials(directory);
        var cas = new System.Security.Cryptography.X509Certificates.X509Certificate2Collection();
        if (credentials.CaPath is { } ca) cas.ImportFromPemFile(ca);
        var tls = new System.Net.Security.SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
        await tls.AuthenticateAsClientAsync(new System.Net.Security.SslClientAuthenticationOptions
        {
            TargetHost = host,
            RemoteCertificateValidationCallback = (_, certificate, _, errors) => AdminHttpHandler.Trusted(certificate, errors, cas),
        }, ct);
        return (tls, credentials.Token is { } token ? $"Authorization: Bearer {token}\r\n" : "");
    }

    /// <summary>Environment for a child process (the CLI, the load tool) to find the same token and CA.</summary>
    public static Dictionary<string, string> Environment(string? directory = null)
    {
        var credentials = Credentials(directory);
        var environment = new Dictionary<string, string>();
        if (credentials.Token is { } token) environment[AdminCredentials.TokenVariable] = token;
        if (credentials.CaPath is { } ca) environment[AdminCredentials.CaVariable] = ca;
        return environment;
    }
}
