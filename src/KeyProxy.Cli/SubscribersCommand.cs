using System.CommandLine;
using System.Text.Json;

namespace KeyProxy.Cli;

/// <summary><c>keyproxy subscribers list | show NAI | provision FILE | delete NAI</c>: profiles, never their secrets or keys.</summary>
public static class SubscribersCommand
{
    public static Command Build(CliContext context)
    {
        var skip = new Option<int>("--skip") { Description = "subscribers to skip (NAIs in ordinal order)", DefaultValueFactory = _ => 0 };
        var take = new Option<int>("--take") { Description = "subscribers to list, 1 to 1000", DefaultValueFactory = _ => 100 };
        var list = new Command("list", "List provisioned subscribers, a page at a time.") { skip, take };
        list.SetAction(KeyProxyCli.Action(context, async (result, client, ct) =>
        {
            var page = await client.ListSubscribersAsync(result.GetValue(skip), result.GetValue(take), ct);
            if (context.Json(result))
            {
                JsonOutput.Write(context.Output, page.Json);
                return;
            }
            var table = new TextTable("NAI", "MSISDN", "PROXY", "IKE IDENTITY", "ATTACHED", "VERSION");
            foreach (var s in page.Value.Items)
                table.Add(s.Nai, s.Msisdn ?? "-", s.ProxyService ? "yes" : "no", s.IkeIdentity, s.Attachment is { } a ? $"{a.EdgeId} {a.HandsetAddress}" : "-", s.Version.ToString());
            table.WriteTo(context.Output);
            var p = page.Value;
            context.Output.WriteLine(p.Items.Count == 0
                ? $"{p.Total} subscribers, none from {p.Skip + 1}"
                : $"{p.Total} subscribers, {p.Skip + 1}-{p.Skip + p.Items.Count} shown");
        }));

        var showNai = NaiArgument();
        var show = new Command("show", "Show one subscriber's profile (without its secret, keys or PEMs) and attachment.") { showNai };
        show.SetAction(KeyProxyCli.Action(context, async (result, client, ct) =>
        {
            var summary = await client.GetSubscriberAsync(result.GetValue(showNai)!, ct);
            if (context.Json(result)) JsonOutput.Write(context.Output, summary.Json);
            else WriteSummary(context.Output, summary.Value, context.Clock.GetUtcNow());
        }));

        var file = new Argument<FileInfo>("file") { Description = "the profile as JSON, the admin API's PUT body (README, \"Admin API\")" };
        var provisionNai = new Option<string?>("--nai") { Description = "the subscriber's NAI (default: the file's \"nai\")" };
        var provision = new Command("provision", "Create or replace a subscriber from a JSON profile file; prints the stored profile without its secrets.") { file, provisionNai };
        provision.SetAction(KeyProxyCli.Action(context, async (result, client, ct) =>
        {
            var path = result.GetValue(file)!;
            string body;
            try
            {
                body = await File.ReadAllTextAsync(path.FullName, ct);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliException($"cannot read {path}: {e.Message}", ExitCodes.Usage);
            }
            var nai = result.GetValue(provisionNai) ?? NaiOf(body, path);
            var (summary, created) = await client.PutSubscriberAsync(nai, body, ct);
            if (context.Json(result))
            {
                JsonOutput.Write(context.Output, summary.Json);
                return;
            }
            context.Output.WriteLine($"{(created ? "created" : "replaced")} {summary.Value.Nai} (version {summary.Value.Version})");
            WriteSummary(context.Output, summary.Value, context.Clock.GetUtcNow());
        }));

        var deleteNai = NaiArgument();
        var delete = new Command("delete", "Delete a subscriber's profile (the admin API's DELETE).") { deleteNai };
        delete.SetAction(KeyProxyCli.Action(context, async (result, client, ct) =>
        {
            var nai = result.GetValue(deleteNai)!;
            await client.DeleteSubscriberAsync(nai, ct);
            if (context.Json(result)) JsonOutput.Write(context.Output, new { deleted = nai });
            else context.Output.WriteLine($"deleted {nai}");
        }));

        return new Command("subscribers", "Provisioned subscribers: list, show, provision from a JSON file, delete.") { list, show, provision, delete };
    }

    private static Argument<string> NaiArgument() => new("nai") { Description = "the subscriber's NAI, e.g. alice@keyproxy.test" };

    /// <summary>The <c>nai</c> member of the profile file; the API checks the rest.</summary>
    private static string NaiOf(string body, FileInfo path)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("nai", out var nai) && nai.ValueKind == JsonValueKind.String && nai.GetString() is { Length: > 0 } text)
                return text;
        }
        catch (JsonException e)
        {
            throw new CliException($"{path}: not JSON ({e.Message}); give --nai to have the API list every problem", ExitCodes.Usage);
        }
        throw new CliException($"{path} has no \"nai\": give --nai", ExitCodes.Usage);
    }

    public static void WriteSummary(TextWriter output, SubscriberSummary s, DateTimeOffset now)
    {
        output.WriteLine($"{s.Nai}, version {s.Version}");
        output.WriteLine($"  msisdn         {s.Msisdn ?? "-"}");
        output.WriteLine($"  proxy service  {(s.ProxyService ? "yes" : "no")}");
        output.WriteLine($"  ike identity   {s.IkeIdentity}");
        if (s.Conditions.Count == 0) output.WriteLine("  conditions     none");
        foreach (var (c, i) in s.Conditions.Select((c, i) => (c, i)))
            output.WriteLine($"  {(i == 0 ? "conditions" : ""),-13}  {c.PeerPrefix} protocol {(c.Protocol == 0 ? "any" : c.Protocol.ToString())} " +
                             $"ports {c.StartPort}-{c.EndPort} as {string.Join(",", c.Roles)}, peer {c.PeerIdentity ?? "any"}");
        output.WriteLine($"  psk peers      {(s.PreSharedKeyPeers.Count == 0 ? "none" : string.Join("; ", s.PreSharedKeyPeers.Select(p => $"{p.PeerPrefix} {p.PeerIdentity ?? "any"}")))}");
        output.WriteLine($"  certificate    {(s.HasCertificate ? "yes" : "no")}, {s.TrustedCaCount} trusted CAs");
        output.WriteLine($"  ike proposals  {string.Join(", ", s.IkeProposals)}");
        output.WriteLine($"  esp proposals  {string.Join(", ", s.EspProposals)}");
        output.WriteLine(s.Attachment is { } a
            ? $"  attached       edge {a.EdgeId}, address {a.HandsetAddress}, tunnel {a.TunnelId}, since {Ages.Ago(a.Since, now)}"
            : "  attached       no");
    }
}
