using Orleans.Runtime;

namespace KeyProxy.Storage.AzureTable;

/// <summary>A stored grain state row does not have the layout this provider writes.</summary>
public sealed class GrainStateCorruptException(string message) : OrleansException(message);
