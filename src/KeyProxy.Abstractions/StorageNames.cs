namespace KeyProxy.Abstractions;

/// <summary>Names of the grain storage providers the grains use; the silo host registers them.</summary>
public static class StorageNames
{
    /// <summary>Subscriber profiles, one row each, kept readable for operators (JSON in Azure Table storage).</summary>
    public const string Subscribers = "subscribers";

    /// <summary>The subscriber directory: one row listing every NAI, kept compact (binary) because it grows with the fleet.</summary>
    public const string Directory = "directory";
}
