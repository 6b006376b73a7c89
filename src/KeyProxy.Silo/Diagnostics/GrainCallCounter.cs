using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace KeyProxy.Silo.Diagnostics;

/// <summary>
/// Counts the grain calls this silo receives for the service's own grain interfaces (KeyProxy.*), by interface
/// method, so a load run can tell how many grain calls one proxied SA costs (issue 17: calls per flow). Orleans'
/// own and the dashboard's grains are left out. One dictionary lookup and one interlocked add per call.
/// </summary>
public sealed class GrainCallCounter : IIncomingGrainCallFilter
{
    private readonly ConcurrentDictionary<MethodInfo, StrongBox<long>> _byMethod = new();

    public Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.InterfaceMethod is { DeclaringType.Namespace: { } ns } method && ns.StartsWith("KeyProxy", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _byMethod.GetOrAdd(method, static _ => new StrongBox<long>()).Value);
        }
        return context.Invoke();
    }

    /// <summary>Calls received since the silo started, by "Interface.Method" (cumulative: a reader takes differences).</summary>
    public IReadOnlyDictionary<string, long> Snapshot()
    {
        var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var (method, count) in _byMethod)
        {
            var name = $"{method.DeclaringType!.Name}.{method.Name}";
            counts[name] = counts.GetValueOrDefault(name) + Interlocked.Read(ref count.Value);
        }
        return counts;
    }
}
