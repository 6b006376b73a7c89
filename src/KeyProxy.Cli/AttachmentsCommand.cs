using System.CommandLine;

namespace KeyProxy.Cli;

/// <summary><c>keyproxy attachments</c>: attached handsets, their edge, address and tunnel.</summary>
public static class AttachmentsCommand
{
    public static Command Build(CliContext context)
    {
        var command = new Command("attachments", "Attached handsets: subscriber, edge, handset address, tunnel id, since when.");
        command.SetAction(KeyProxyCli.Action(context, async (result, client, ct) =>
        {
            var attachments = await client.ListAttachmentsAsync(ct);
            if (context.Json(result))
            {
                JsonOutput.Write(context.Output, attachments.Json);
                return;
            }
            if (attachments.Value.Count == 0)
            {
                context.Output.WriteLine("no attached handsets");
                return;
            }
            var now = context.Clock.GetUtcNow();
            var table = new TextTable("NAI", "EDGE", "ADDRESS", "TUNNEL", "SINCE");
            foreach (var a in attachments.Value) table.Add(a.Nai, a.EdgeId, a.HandsetAddress, a.TunnelId.ToString(), Ages.Ago(a.Since, now));
            table.WriteTo(context.Output);
        }));
        return command;
    }
}
