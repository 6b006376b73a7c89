namespace KeyProxy.Abstractions;

/// <summary>Names of the grain storage providers the grains use; the silo host registers them.</summary>
public static class StorageNames
{
    /// <summary>Subscriber profiles and the subscriber directory.</summary>
    public const string Subscribers = "subscribers";
}
