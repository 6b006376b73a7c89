using KeyProxy.Silo.Diagnostics;

namespace KeyProxy.Silo.Api;

/// <summary>
/// GET /api/grain-calls: the calls this silo received for the service's grains since it started, in all and by
/// "Interface.Method", with the bytes the process allocated so far; a load run takes differences over a phase.
/// </summary>
public sealed record GrainCallsDto(long Total, IReadOnlyDictionary<string, long> ByMethod, long AllocatedBytes)
{
    public static GrainCallsDto From(GrainCallCounter counter)
    {
        var byMethod = counter.Snapshot();
        long total = 0;
        foreach (var count in byMethod.Values) total += count;
        return new GrainCallsDto(total, byMethod, GC.GetTotalAllocatedBytes(precise: false));
    }
}
