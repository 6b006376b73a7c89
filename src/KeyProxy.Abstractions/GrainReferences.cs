using Orleans.Runtime;

namespace KeyProxy.Abstractions;

/// <summary>
/// Grain references for the per-SA path without Orleans' per-call interface lookup: <c>GetGrain&lt;T&gt;(key)</c>
/// resolves T's grain interface type from its attributes and type name on every call (about 3.4 KiB per proxied SA in
/// the silo, docs/PERFORMANCE.md "Allocation per proxied SA"). This takes T's grain type and interface type from one
/// <c>GetGrain&lt;T&gt;</c> reference and then builds each reference from its <see cref="GrainId"/>.
/// </summary>
public static class GrainReferences
{
    /// <summary>The reference <c>grains.GetGrain&lt;T&gt;(key)</c> gives.</summary>
    public static T Reference<T>(this IGrainFactory grains, Guid key) where T : IGrainWithGuidKey
    {
        var types = Types<T>.Resolved ??= Resolve(grains.GetGrain<T>(Guid.Empty));
        return (T)grains.GetGrain(GrainId.Create(types.Grain, GrainIdKeyExtensions.CreateGuidKey(key)), types.Interface);
    }

    /// <summary>The reference <c>grains.GetGrain&lt;T&gt;(key)</c> gives.</summary>
    public static T Reference<T>(this IGrainFactory grains, string key) where T : IGrainWithStringKey
    {
        var types = Types<T>.Resolved ??= Resolve(grains.GetGrain<T>("-"));
        return (T)grains.GetGrain(GrainId.Create(types.Grain, IdSpan.Create(key)), types.Interface);
    }

    private static GrainTypes Resolve(IGrain probe)
    {
        var reference = (GrainReference)probe;
        return new GrainTypes(reference.GrainId.Type, reference.InterfaceType);
    }

    private static class Types<T> where T : IGrain
    {
        public static GrainTypes? Resolved;
    }

    private sealed record GrainTypes(GrainType Grain, GrainInterfaceType Interface);
}
