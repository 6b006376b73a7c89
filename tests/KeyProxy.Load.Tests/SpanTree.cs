using System.Diagnostics;
using System.Text;

namespace KeyProxy.Load.Tests;

/// <summary>The spans of one trace as a tree: parents by span id, paths to the root, and a printout for failure messages.</summary>
internal sealed class SpanTree
{
    private readonly Dictionary<ActivitySpanId, Activity> _byId;

    public SpanTree(IEnumerable<Activity> spans, ActivityTraceId trace)
    {
        Spans = [.. spans.Where(s => s.TraceId == trace)];
        _byId = Spans.ToDictionary(s => s.SpanId);
    }

    public IReadOnlyList<Activity> Spans { get; }

    public static string? Tag(Activity span, string key) => span.GetTagItem(key)?.ToString();

    /// <summary>Whether <paramref name="span"/> is Orleans' span of a call to <paramref name="method"/> (either side; rpc.method is "Interface/Method").</summary>
    public static bool IsGrainCall(Activity span, string method) =>
        span.Source.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal) && Tag(span, "rpc.method")?.EndsWith("/" + method, StringComparison.Ordinal) == true;

    /// <summary><paramref name="span"/> and its ancestors up to the first one whose parent is not in the trace.</summary>
    public List<Activity> PathToRoot(Activity span)
    {
        var path = new List<Activity> { span };
        while (path[^1].ParentSpanId != default && _byId.TryGetValue(path[^1].ParentSpanId, out var parent)) path.Add(parent);
        return path;
    }

    public IEnumerable<Activity> ChildrenOf(Activity span) => Spans.Where(s => s.ParentSpanId == span.SpanId);

    /// <summary>The tree, indented, with each span's source, kind and tags.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (var root in Spans.Where(s => s.ParentSpanId == default || !_byId.ContainsKey(s.ParentSpanId)).OrderBy(s => s.StartTimeUtc))
            Print(root, 0);
        return text.ToString();

        void Print(Activity span, int depth)
        {
            text.Append(' ', depth * 2).Append(span.DisplayName).Append(" [").Append(span.Source.Name).Append(' ').Append(span.Kind).Append("] ")
                .AppendJoin(", ", span.TagObjects.Select(t => $"{t.Key}={t.Value}")).Append('\n');
            foreach (var child in ChildrenOf(span).OrderBy(s => s.StartTimeUtc)) Print(child, depth + 1);
        }
    }
}
