using Orleans.Storage;

namespace KeyProxy.Storage.AzureTable;

/// <summary>Options of one named grain storage provider.</summary>
public sealed class AzureTableGrainStorageOptions : AzureTableStorageOptions, IStorageProviderSerializerOptions
{
    /// <summary>Default table name for grain state.</summary>
    public const string DefaultTableName = "KeyProxyGrainState";

    /// <inheritdoc />
    public override string TableName { get; set; } = DefaultTableName;

    /// <summary>
    /// True (default): ClearStateAsync deletes the row. False: it writes an empty state, so the row and the
    /// ETag chain survive (useful to fence a stale activation after a clear).
    /// </summary>
    public bool DeleteStateOnClear { get; set; } = true;

    /// <summary>Serializer of the state; Orleans' default <see cref="IGrainStorageSerializer"/> when left unset.</summary>
    public IGrainStorageSerializer GrainStorageSerializer { get; set; } = null!;

    /// <summary>Stage of the silo lifecycle at which the table is created if missing.</summary>
    public int InitStage { get; set; } = Orleans.ServiceLifecycleStage.ApplicationServices;
}
