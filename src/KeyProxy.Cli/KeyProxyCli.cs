using System.CommandLine;
using System.CommandLine.Invocation;

namespace KeyProxy.Cli;

/// <summary>
/// <c>keyproxy</c>: the operator's command line on a silo's admin API. Commands: <c>subscribers</c> (list, show, provision,
/// delete), <c>attachments</c>, <c>sessions</c> (like <c>swanctl --list-sas</c>), <c>edge</c>. Exit codes in <see cref="ExitCodes"/>.
/// </summary>
public static class KeyProxyCli
{
    /// <summary>Runs one command line; what it prints goes to <paramref name="output"/> and <paramref name="error"/>.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, Func<string, string?>? environment = null,
        CancellationToken ct = default)
    {
        var options = new GlobalOptions();
        var context = new CliContext(output, error, environment ?? (_ => null), options);
        var root = Build(context);
        var parsed = root.Parse(args);
        if (parsed.Action is ParseErrorAction)
        {
            foreach (var e in parsed.Errors) await error.WriteLineAsync("keyproxy: " + e.Message);
            await error.WriteLineAsync("Try 'keyproxy --help'.");
            return ExitCodes.Usage;
        }
        return await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, ct);
    }

    public static RootCommand Build(CliContext context)
    {
        var root = new RootCommand(
            "The KeyProxy operator's command line on a silo's admin API: subscribers, attachments, proxy sessions with their SAs, the edge's counters.\n" +
            "Exit codes: 0 done, 1 the API refused or failed or could not be reached, 2 a usage error.")
        {
            SubscribersCommand.Build(context),
            AttachmentsCommand.Build(context),
            SessionsCommand.Build(context),
            EdgeCommand.Build(context),
        };
        context.Options.AddTo(root);
        return root;
    }

    /// <summary>Runs a command's body with its client; a <see cref="CliException"/> becomes one line on stderr and its exit code.</summary>
    internal static Func<ParseResult, CancellationToken, Task<int>> Action(CliContext context, Func<ParseResult, AdminApiClient, CancellationToken, Task> body) =>
        async (result, ct) =>
        {
            try
            {
                using var client = context.Client(result);
                await body(result, client, ct);
                return ExitCodes.Ok;
            }
            catch (CliException e)
            {
                await context.Error.WriteLineAsync("keyproxy: " + e.Message);
                return e.ExitCode;
            }
        };
}
