using System.CommandLine;

namespace KeyProxy.Cli;

/// <summary>One invocation's surroundings: the writers, the environment, and the global options it was given.</summary>
public sealed class CliContext(TextWriter output, TextWriter error, Func<string, string?> environment, GlobalOptions options)
{
    public TextWriter Output { get; } = output;

    public TextWriter Error { get; } = error;

    public GlobalOptions Options { get; } = options;

    /// <summary>Now, for ages ("established 8s ago").</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    public bool Json(ParseResult result) => result.GetValue(Options.Json);

    /// <summary>A client for <c>--api</c> (or <c>KEYPROXY_API</c>) with <c>--token</c> and <c>--ca</c> (or their variables, or Development mode's files); a bad address is a usage error.</summary>
    public AdminApiClient Client(ParseResult result)
    {
        var api = result.GetValue(Options.Api) ?? NonEmpty(environment(GlobalOptions.ApiVariable)) ?? GlobalOptions.DefaultApi;
        if (!Uri.TryCreate(api.EndsWith('/') ? api : api + "/", UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new CliException($"--api: '{api}' is not an http:// or https:// address", ExitCodes.Usage);
        var seconds = result.GetValue(Options.TimeoutSeconds);
        if (seconds <= 0) throw new CliException($"--timeout: {seconds} is not a positive number of seconds", ExitCodes.Usage);
        var credentials = KeyProxy.AdminAccess.AdminCredentials.Resolve(result.GetValue(Options.Token), result.GetValue(Options.Ca), environment);
        if (credentials.CaPath is { } ca && !File.Exists(ca)) throw new CliException($"--ca: '{ca}' does not exist", ExitCodes.Usage);
        return new AdminApiClient(uri, credentials, TimeSpan.FromSeconds(seconds));
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
