using System.Globalization;
using System.Text;

namespace KeyProxy.Load.Chaos;

/// <summary>One invariant's line in the report: its name, what it checks, how many breaches, and a figure.</summary>
public sealed record InvariantRow(string Name, string Checks, int Breaches, string Figure);

/// <summary>
/// The soak's report: <c>chaos.md</c> (settings, the bound, one row per fault, the invariant table, every breach with
/// its evidence, the silo logs) and <c>chaos-faults.csv</c>, <c>chaos-invariants.csv</c> beside the load scenarios'
/// own reports (report.md, report.csv, report-intervals.csv, report.html).
/// </summary>
public static class ChaosReport
{
    public static IReadOnlyList<string> Write(string directory, string header, IReadOnlyList<FaultRecord> faults, IReadOnlyList<InvariantRow> invariants,
        IReadOnlyCollection<Breach> breaches, IEnumerable<string> notes)
    {
        Directory.CreateDirectory(directory);
        var md = new StringBuilder();
        md.AppendLine("# KeyProxy chaos soak").AppendLine().AppendLine(header).AppendLine();
        md.AppendLine("## Faults").AppendLine();
        md.AppendLine("| # | kind | target | start (UTC) | end (UTC) | window to | held s | declared dead after s | exchanges retried | exchanges failed | SAs one-sided | longest one-sided s | ESP lost | PUTs failed | note |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var f in faults)
            md.AppendLine($"| {f.Number} | {f.Kind} | {f.Target} | {f.Start:HH:mm:ss.fff} | {f.End:HH:mm:ss.fff} | {f.WindowEnd:HH:mm:ss} | {S(f.Held)} | {(f.Detection is { } d ? S(d) : "-")} | "
                + $"{f.ExchangesRetried} | {f.ExchangesFailed} | {f.OneSidedSas} | {S(f.OneSidedLongest)} | {f.EspLost} | {f.ProvisionsFailed} | {Cell(Note(f))} |");
        md.AppendLine().AppendLine("## Invariants").AppendLine();
        md.AppendLine("| invariant | checks | breaches | figure |").AppendLine("|---|---|---|---|");
        foreach (var i in invariants) md.AppendLine($"| {i.Name} | {Cell(i.Checks)} | {i.Breaches} | {Cell(i.Figure)} |");
        md.AppendLine().AppendLine("## Breaches").AppendLine();
        if (breaches.Count == 0) md.AppendLine("None.");
        foreach (var b in breaches.OrderBy(b => b.At)) md.AppendLine($"- {b.At:HH:mm:ss.fff} **{b.Invariant}**: {b.Detail}");
        md.AppendLine();
        foreach (var n in notes) md.AppendLine(n);

        var faultsCsv = new StringBuilder("number,kind,target,start_utc,end_utc,window_end_utc,held_s,detection_s,exchanges_retried,exchanges_failed,one_sided_sas,one_sided_longest_s,esp_lost,puts_failed,stopped_itself,error\n");
        foreach (var f in faults)
            faultsCsv.AppendLine(string.Join(',', f.Number, f.Kind, f.Target, f.Start.ToString("o", CultureInfo.InvariantCulture), f.End.ToString("o", CultureInfo.InvariantCulture),
                f.WindowEnd.ToString("o", CultureInfo.InvariantCulture), S(f.Held), f.Detection is { } d ? S(d) : "", f.ExchangesRetried, f.ExchangesFailed, f.OneSidedSas,
                S(f.OneSidedLongest), f.EspLost, f.ProvisionsFailed,
                f.StoppedItself ? "yes" : "no", Csv(f.Error ?? "")));
        var invariantsCsv = new StringBuilder("invariant,breaches,figure\n");
        foreach (var i in invariants) invariantsCsv.AppendLine($"{i.Name},{i.Breaches},{Csv(i.Figure)}");

        var files = new[]
        {
            (Path.Combine(directory, "chaos.md"), md.ToString()),
            (Path.Combine(directory, "chaos-faults.csv"), faultsCsv.ToString()),
            (Path.Combine(directory, "chaos-invariants.csv"), invariantsCsv.ToString()),
        };
        foreach (var (path, text) in files) File.WriteAllText(path, text);
        return [.. files.Select(f => f.Item1)];
    }

    private static string Note(FaultRecord f) =>
        (f.Kind == FaultKind.Isolate ? (f.StoppedItself ? "stopped itself; " : "kept running; ") : "") + f.Note + (f.Error is { } e ? "ERROR " + e : "");

    private static string S(TimeSpan t) => t.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture);

    private static string Cell(string text) => text.Replace('|', '/').Replace('\n', ' ');

    private static string Csv(string text) => text.Contains(',') || text.Contains('"') ? "\"" + text.Replace("\"", "\"\"") + "\"" : text;
}
