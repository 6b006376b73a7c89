using Azure.Core;
using Azure.Data.Tables;
using Orleans.Runtime;

namespace KeyProxy.Storage.AzureTable;

/// <summary>
/// Where a provider's table lives: a connection string or a <see cref="TableServiceClient"/> factory,
/// the table name, and the Azure SDK client options (retries go through <see cref="TableClientOptions.Retry"/>).
/// The same settings work against Azurite and real Azure Storage.
/// </summary>
public abstract class AzureTableStorageOptions
{
    /// <summary>Storage account connection string (Azurite's or a real account's).</summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// Alternative to <see cref="ConnectionString"/> (e.g. a token credential against a service URI): builds the
    /// service client from the client options it is given, so the retry settings still apply.
    /// </summary>
    public Func<TableClientOptions, TableServiceClient>? TableServiceClientFactory { get; set; }

    /// <summary>Name of the table; Azure rules: 3 to 63 letters and digits, starting with a letter.</summary>
    public abstract string TableName { get; set; }

    /// <summary>Azure SDK options used for every request: exponential retries and a network timeout by default.</summary>
    public TableClientOptions ClientOptions { get; set; } = CreateDefaultClientOptions();

    /// <summary>Default SDK options: up to 4 exponential retries from 200 ms, capped at 5 s, 30 s per try.</summary>
    public static TableClientOptions CreateDefaultClientOptions()
    {
        var options = new TableClientOptions();
        options.Retry.Mode = RetryMode.Exponential;
        options.Retry.MaxRetries = 4;
        options.Retry.Delay = TimeSpan.FromMilliseconds(200);
        options.Retry.MaxDelay = TimeSpan.FromSeconds(5);
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(30);
        return options;
    }

    /// <summary>Builds the client of the configured table (no request is sent).</summary>
    public TableClient CreateTableClient()
    {
        TableServiceClient service = TableServiceClientFactory is not null
            ? TableServiceClientFactory(ClientOptions)
            : new TableServiceClient(ConnectionString, ClientOptions);
        return service.GetTableClient(TableName);
    }

    /// <summary>Checks the settings and throws <see cref="OrleansConfigurationException"/> naming the provider.</summary>
    public void Validate(string providerName)
    {
        string prefix = $"Azure Table storage provider '{providerName}' ({GetType().Name})";
        if (TableServiceClientFactory is null && string.IsNullOrWhiteSpace(ConnectionString))
        {
            throw new OrleansConfigurationException(
                $"{prefix}: set {nameof(ConnectionString)} or {nameof(TableServiceClientFactory)}.");
        }

        if (!IsValidTableName(TableName))
        {
            throw new OrleansConfigurationException(
                $"{prefix}: table name '{TableName}' is not valid; Azure wants 3 to 63 ASCII letters and digits starting with a letter, and not 'tables'.");
        }

        if (ClientOptions is null)
        {
            throw new OrleansConfigurationException($"{prefix}: {nameof(ClientOptions)} must not be null.");
        }

        if (TableServiceClientFactory is null)
        {
            try
            {
                _ = new TableServiceClient(ConnectionString, ClientOptions);
            }
            catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
            {
                throw new OrleansConfigurationException($"{prefix}: the connection string cannot be used: {e.Message}");
            }
        }
    }

    /// <summary>Azure table naming rule: ^[A-Za-z][A-Za-z0-9]{2,62}$, and "tables" is reserved.</summary>
    public static bool IsValidTableName(string? name)
    {
        if (name is null || name.Length < 3 || name.Length > 63 || !char.IsAsciiLetter(name[0]))
        {
            return false;
        }

        foreach (char c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c))
            {
                return false;
            }
        }

        return !string.Equals(name, "tables", StringComparison.OrdinalIgnoreCase);
    }
}
