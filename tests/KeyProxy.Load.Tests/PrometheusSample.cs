using System.Globalization;
using System.Text.RegularExpressions;

namespace KeyProxy.Load.Tests;

/// <summary>One sample of the Prometheus text exposition format: metric name, labels, value.</summary>
internal sealed partial record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    /// <summary>The samples of a scrape (comments skipped; label values unescaped).</summary>
    public static List<PrometheusSample> Parse(string text)
    {
        var samples = new List<PrometheusSample>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var m = Line().Match(line);
            Assert.True(m.Success, $"not a sample line: {line}");
            var labels = new Dictionary<string, string>();
            foreach (Match l in Label().Matches(m.Groups["labels"].Value))
                labels[l.Groups["k"].Value] = l.Groups["v"].Value.Replace("\\\"", "\"").Replace("\\n", "\n").Replace("\\\\", "\\");
            samples.Add(new PrometheusSample(m.Groups["name"].Value, labels, ParseValue(m.Groups["value"].Value)));
        }
        return samples;
    }

    private static double ParseValue(string v) => v switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" => double.NaN,
        _ => double.Parse(v, CultureInfo.InvariantCulture),
    };

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})?\s+(?<value>\S+)(\s+\d+)?$")]
    private static partial Regex Line();

    [GeneratedRegex(@"(?<k>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<v>(\\.|[^""\\])*)""")]
    private static partial Regex Label();
}
