#:package Microsoft.Diagnostics.Tracing.TraceEvent@3.1.21
#:property PublishAot=false
#:property ManagePackageVersionsCentrally=false
// Groups the GC AllocationTick samples of a .nettrace (dotnet-trace, Microsoft-Windows-DotNETRuntime:0x1:5) by type,
// by component (the innermost frame that names one) and by our innermost call site. Each sample stands for the
// bytes allocated since the previous one (AllocationAmount64, about 100 KB).
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;
using System.Text.RegularExpressions;

var path = args[0];
long sas = args.Length > 1 ? long.Parse(args[1]) : 0;
int top = args.Length > 2 ? int.Parse(args[2]) : 25;
var etlx = TraceLog.CreateFromEventPipeDataFile(path, null, new TraceLogOptions { ContinueOnError = true });
using var log = new TraceLog(etlx);
(string name, Regex re)[] rules =
[
    ("logging", new(@"^Microsoft\.Extensions\.Logging|LoggerMessage")),
    ("tracing", new(@"^System\.Diagnostics\.Activity|OpenTelemetry|DiagnosticSource|Metrics\.(Counter|Histogram|Meter)")),
    ("crypto", new(@"^(System\.Security\.Cryptography|Org\.BouncyCastle|KeyProxy\.Ike\.Crypto|KeyProxy\.Ike\.Auth\.SignedOctets)")),
    ("ike", new(@"^KeyProxy\.Ike")),
    ("ipsec", new(@"^KeyProxy\.Ipsec")),
    ("edge", new(@"^KeyProxy\.(Edge|Wire)")),
    ("grains", new(@"^KeyProxy\.(Grains|Abstractions)")),
    ("KeyProxy (other)", new(@"^KeyProxy\.")),
    ("orleans-serialization", new(@"^Orleans\.Serialization")),
    ("orleans-messaging", new(@"^Orleans\.Runtime\.Messaging|^Orleans\.Networking|Orleans\.Runtime\.Message|Connection")),
    ("orleans", new(@"^Orleans")),
    ("sockets", new(@"^System\.Net\.Sockets")),
];
var byType = new Dictionary<string, double>();
var byComp = new Dictionary<string, double>();
var bySite = new Dictionary<string, double>();
var byStack = new Dictionary<string, double>();
var byFrame = new Dictionary<string, double>();
double total = 0; int samples = 0, unresolved = 0;
foreach (var ev in log.Events)
{
    if (ev is not GCAllocationTickTraceData tick) continue;
    double bytes = tick.AllocationAmount64;
    total += bytes; samples++;
    string type = tick.TypeName ?? "?";
    Add(byType, type, bytes);
    var frames = new List<string>();
    for (var s = ev.CallStack(); s != null && frames.Count < 60; s = s.Caller)
    {
        var m = s.CodeAddress.FullMethodName;
        if (string.IsNullOrEmpty(m)) m = "?" + s.CodeAddress.ModuleName;
        frames.Add(m);
    }
    if (frames.Count == 0 || frames.All(f => f.StartsWith('?'))) unresolved++;
    string comp = "runtime/BCL";
    foreach (var f in frames)
    {
        var method = f.Split('(')[0]; // the declaring type and method, not the parameters' types
        var hit = rules.FirstOrDefault(r => r.re.IsMatch(method));
        if (hit.name != null) { comp = hit.name; break; }
    }
    Add(byComp, comp, bytes);
    var ours = frames.FirstOrDefault(f => f.StartsWith("KeyProxy."));
    Add(bySite, type + " <- " + (ours ?? "(no KeyProxy frame) " + frames.FirstOrDefault(f => !f.StartsWith("System.") && !f.StartsWith('?'))), bytes);
    foreach (var f in frames.Where(f => !f.StartsWith('?') && !f.StartsWith("System.")).Distinct()) Add(byFrame, f, bytes);
    Add(byStack, type + "\n      " + string.Join("\n      ", frames.Where(f => !f.StartsWith('?')).Take(12)), bytes);
}
Console.WriteLine($"samples {samples}, bytes {total / 1048576:F1} MiB, unresolved stacks {unresolved}" + (sas > 0 ? $", {total / sas / 1024:F1} KiB per SA over {sas} SAs" : ""));
Print("component (innermost frame naming one)", byComp, 20);
Print("type", byType, top);
Print("type <- our innermost frame", bySite, top);
Print("method, inclusive (samples whose stack holds it; System.* left out)", byFrame, 3 * top);
Print("stacks", byStack, top);

void Add(Dictionary<string, double> d, string k, double v) => d[k] = d.GetValueOrDefault(k) + v;
void Print(string title, Dictionary<string, double> d, int n)
{
    Console.WriteLine($"\n## by {title}\n| share | KiB/SA | what |\n|---:|---:|---|");
    foreach (var (k, v) in d.OrderByDescending(kv => kv.Value).Take(n))
        Console.WriteLine($"| {100 * v / total:F1}% | {(sas > 0 ? v / sas / 1024 : 0):F2} | {k} |");
}
