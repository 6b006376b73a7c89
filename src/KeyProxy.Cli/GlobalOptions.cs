using System.CommandLine;

namespace KeyProxy.Cli;

/// <summary>
/// Options every command takes (before or after its name): where the admin API is, the token, <c>--json</c>, the timeout.
/// Unset, <c>--api</c> and <c>--token</c> come from <c>KEYPROXY_API</c> and <c>KEYPROXY_TOKEN</c>.
/// </summary>
public sealed class GlobalOptions
{
    public const string DefaultApi = "http://127.0.0.1:8080";
    public const string ApiVariable = "KEYPROXY_API";
    public const string TokenVariable = "KEYPROXY_TOKEN";

    public Option<string?> Api { get; } = new("--api")
    {
        Description = $"the silo's admin API base address (default: ${ApiVariable}, else {DefaultApi})",
        Recursive = true,
    };

    // No default value factory: help would print the token.
    public Option<string?> Token { get; } = new("--token")
    {
        Description = $"bearer token for the admin API (default: ${TokenVariable}); sent as 'Authorization: Bearer' when given, never printed. " +
                      "The admin API has no authentication yet and ignores it",
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
        root.Options.Add(Json);
        root.Options.Add(TimeoutSeconds);
    }
}
