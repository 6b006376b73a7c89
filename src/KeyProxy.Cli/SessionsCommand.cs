using System.CommandLine;

namespace KeyProxy.Cli;

/// <summary><c>keyproxy sessions [--nai NAI]</c>: live proxy sessions with their SAs, like <c>swanctl --list-sas</c>.</summary>
public static class SessionsCommand
{
    public static Command Build(CliContext context)
    {
        var nai = new Option<string?>("--nai") { Description = "only this subscriber's sessions" };
        var command = new Command("sessions",
            "Live proxy sessions with their IKE SA and CHILD_SAs, like 'swanctl --list-sas': subscriber, peer, SPIs, state, suite, age. " +
            "CHILD_SA SPIs are the handset's (in: it receives with). No byte counts: ESP passes the edge without a count per SA.") { nai };
        command.SetAction(KeyProxyCli.Action(context, async (result, client, ct) =>
        {
            var sessions = await client.ListSessionsAsync(ct);
            var only = result.GetValue(nai);
            if (context.Json(result))
            {
                JsonOutput.Write(context.Output, only is null
                    ? sessions.Json
                    : System.Text.Json.JsonSerializer.SerializeToElement(sessions.Json.EnumerateArray()
                        .Where(s => s.TryGetProperty("nai", out var n) && n.GetString() == only).ToList()));
                return;
            }
            var shown = only is null ? sessions.Value : [.. sessions.Value.Where(s => s.Nai == only)];
            // The handset's address (the "local" side) is the attachment's.
            var addresses = shown.Count == 0
                ? new Dictionary<string, string>()
                : (await client.ListAttachmentsAsync(ct)).Value.GroupBy(a => a.Nai).ToDictionary(g => g.Key, g => g.First().HandsetAddress);
            SessionListing.Write(context.Output, shown, addresses, context.Clock.GetUtcNow());
        }));
        return command;
    }
}
