namespace KeyProxy.Storage.AzureTable;

/// <summary>Options of the membership table (silos) and the gateway list (clients).</summary>
public sealed class AzureTableClusteringOptions : AzureTableStorageOptions
{
    /// <summary>Default table name for cluster membership.</summary>
    public const string DefaultTableName = "KeyProxyMembership";

    /// <inheritdoc />
    public override string TableName { get; set; } = DefaultTableName;
}
