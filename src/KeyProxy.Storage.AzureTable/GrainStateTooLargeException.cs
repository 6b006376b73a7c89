using Orleans.Runtime;

namespace KeyProxy.Storage.AzureTable;

/// <summary>A grain state does not fit in one Azure Table entity (1 MiB); nothing was written.</summary>
public sealed class GrainStateTooLargeException(string message) : OrleansException(message);
