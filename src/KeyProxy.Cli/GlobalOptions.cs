using System.CommandLine;

namespace KeyProxy.Cli;

/// <summary>
/// Options every command takes (before or after its name): where the admin API is, the token, <c>--json</c>, the timeout.
/// Unset, <c>--api</c>, <c>--token</c> and <c>--ca</c> come from <c>KEYPROXY_API</c>, <c>KEYPROXY_TOKEN</c> and <c>KEYPROXY_CA</c>, and
/// the token and CA then from the files a Development-mode silo wrote (<see cref="KeyProxy.AdminAccess.AdminCredentials"/>).
/// </summary>
public sealed class GlobalOptions
{
    public const string DefaultApi = "https://127.0.0.1:8080";
    public const string ApiVariable = "KEYPROXY_API";
    public const string TokenVariable = KeyProxy.AdminAccess.AdminCredentials.TokenVariable;
    public const string CaVariable = KeyProxy.AdminAccess.AdminCredentials.CaVariable;

    public Option<string?> Api { get; } = new("--api")
    {
        Description = $"the silo's admin API base address (default: ${ApiVariable}, else {DefaultApi})",
        Recursive = true,
    };

    // No default value factory: help would print the token.
    public Option<string?> Token { get; } = new("--token")
    {
        Description = $"bearer token for the admin API (default: ${TokenVariable}, else a Development-mode silo's ~/.keyproxy/development/admin.token); " +
                      "sent as 'Authorization: Bearer', never printed",
        Recursive = true,
    };

    public Option<string?> Ca { get; } = new("--ca")
    {
        Description = $"PEM file of the CA that issued the admin API's HTTPS certificate (default: ${CaVariable}, else a Development-mode silo's " +
                      "~/.keyproxy/development/cluster-ca.pem, else the system's trust store)",
        Recursive = true,
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "print the API's JSON (indented) instead of text, for scripts",
        Recursive = true,
    };

    public Option<int> TimeoutSeconds { get; } = new("--timeout")
    {
        Description = "seconds to wait for each API answer",
        DefaultValueFactory = _ => 30,
        Recursive = true,
    };

    public void AddTo(Command root)
    {
        root.Options.Add(Api);
        root.Options.Add(Token);
        root.Options.Add(Ca);
        root.Options.Add(Json);
        root.Options.Add(TimeoutSeconds);
    }
}
