using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Storage;

namespace KeyProxy.Silo.Storage;

/// <summary>
/// The subscribers' grain storage: Orleans' Azure Table provider, with the row being read or written made
/// <see cref="StoredRecordId.Current"/> around each call. The provider hands its serializer the state alone; the
/// envelope (<see cref="EnvelopeSecrets"/>) binds each encrypted secret to its row, so it learns the row from here.
/// </summary>
public sealed class RecordBoundGrainStorage(IGrainStorage inner, IOptions<ClusterOptions> cluster) : IGrainStorage
{
    private readonly string _serviceId = cluster.Value.ServiceId;

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        using var _ = StoredRecordId.Enter(StoredRecordId.For(_serviceId, grainId, stateName));
        await inner.ReadStateAsync(stateName, grainId, grainState);
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        using var _ = StoredRecordId.Enter(StoredRecordId.For(_serviceId, grainId, stateName));
        await inner.WriteStateAsync(stateName, grainId, grainState);
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        inner.ClearStateAsync(stateName, grainId, grainState);
}
