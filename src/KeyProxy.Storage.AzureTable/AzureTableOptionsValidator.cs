using Orleans;

namespace KeyProxy.Storage.AzureTable;

/// <summary>Validates an <see cref="AzureTableStorageOptions"/> when the silo or client starts.</summary>
internal sealed class AzureTableOptionsValidator(AzureTableStorageOptions options, string providerName) : IConfigurationValidator
{
    public void ValidateConfiguration() => options.Validate(providerName);
}
