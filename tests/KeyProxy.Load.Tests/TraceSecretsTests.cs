using System.Diagnostics;
using System.Net;
using System.Text;
using KeyProxy.Load.Peers;
using KeyProxy.Load.Scenarios;
using KeyProxy.Testing;

namespace KeyProxy.Load.Tests;

/// <summary>
/// Issue 20 item 3: no key, secret or token in any span, attribute, event or log line. Flows 1 and 2 run with known
/// subscriber secrets and the peers' pre-shared key, tracing on and every log record at Debug captured; each secret is
/// searched in UTF-8, hex and base64 (and the other forms of <see cref="SecretEncodings"/>).
/// </summary>
public class TraceSecretsTests
{
    private const int Handsets = 3;

    [Fact]
    public async Task Spans_and_log_lines_of_flows_1_and_2_carry_no_subscriber_secret_and_no_pre_shared_key()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var silo = await TracedSilo.StartAsync("127.0.212.0/24", "trace-secrets", ct, "--Logging:LogLevel:Default=Debug");
        await silo.RunHandsetInitiatedAsync("secretflow1", Handsets, IPAddress.Parse("127.0.222.0"), ct);
        await silo.RunPeerInitiatedAsync("secretflow2", Handsets, IPAddress.Parse("127.0.223.0"), ct);
        var flow1 = await silo.SpansWhenAsync("secretflow1", s => s.Count(IsDeliveredInstall) >= Handsets, ct);
        var flow2 = await silo.SpansWhenAsync("secretflow2", s => s.Count(IsDeliveredInstall) >= Handsets, ct);
        Assert.Equal(Handsets, flow1.Count(IsDeliveredInstall));
        Assert.Equal(Handsets, flow2.Count(IsDeliveredInstall));
        // Everything this silo's exporter got is searched, whatever trace it belongs to.
        var spans = silo.Exported;

        var secrets = new List<(string Name, IEnumerable<(string Encoding, string Text)> Forms)>
        {
            ("the pre-shared key", SecretEncodings.Of(Encoding.UTF8.GetBytes(ResponderPeers.Psk))),
        };
        foreach (var prefix in new[] { "secretflow1", "secretflow2" })
            for (int i = 0; i < Handsets; i++)
                secrets.Add(($"{HandsetFleet.Nai(prefix, i)}'s secret", SecretEncodings.Of(Encoding.UTF8.GetBytes(HandsetFleet.Secret(prefix, i)))));

        var spanText = string.Join('\n', spans.Select(Text));
        var logText = string.Join('\n', silo.LogLines);
        // The search finds what is there: each form of a secret planted in a copy of the text (the test can fail).
        foreach (var (encoding, form) in secrets[1].Forms)
            Assert.NotEmpty(SecretEncodings.FoundIn(spanText + " " + form, [(secrets[1].Name, [(encoding, form)])]));
        // What was searched is the exchanges' own: the spans name the subscribers, the logs the sessions.
        Assert.Contains(HandsetFleet.Nai("secretflow2", 0), spanText);
        Assert.Contains("starts as responder", logText);

        Assert.Empty(SecretEncodings.FoundIn(spanText, secrets));
        Assert.Empty(SecretEncodings.FoundIn(logText, secrets));
    }

    private static bool IsDeliveredInstall(Activity s) =>
        s.OperationName == "keyproxy.key_transfer.deliver" && SpanTree.Tag(s, "keyproxy.key_transfer.result") == "delivered";

    /// <summary>Everything a span exports: names, every attribute, events and their attributes, links, status, baggage, trace state.</summary>
    private static string Text(Activity span)
    {
        var text = new StringBuilder().Append(span.DisplayName).Append(' ').Append(span.OperationName).Append(' ').Append(span.Source.Name)
            .Append(' ').Append(span.StatusDescription).Append(' ').Append(span.TraceStateString);
        foreach (var (key, value) in span.TagObjects) text.Append(' ').Append(key).Append('=').Append(value);
        foreach (var e in span.Events)
        {
            text.Append(' ').Append(e.Name);
            foreach (var (key, value) in e.Tags) text.Append(' ').Append(key).Append('=').Append(value);
        }
        foreach (var link in span.Links)
            foreach (var (key, value) in link.Tags ?? []) text.Append(' ').Append(key).Append('=').Append(value);
        foreach (var (key, value) in span.Baggage) text.Append(' ').Append(key).Append('=').Append(value);
        return text.ToString();
    }
}
