using Microsoft.Extensions.Options;
using Mogplex.Storage;
using Mogplex.Storage.Postgres;
using Mogplex.Storage.Sqlite;

namespace Mogplex.Server.Configuration;

/// <summary>
/// Which store the server and the operator commands open: <c>Storage:Provider</c> (<c>sqlite</c>,
/// the default, a file in the data folder; or <c>postgres</c>, shared by several nodes) and
/// <c>Storage:Postgres</c> (the connection string). Not a record: the connection string holds a
/// password and must never be printed, so nothing here formats it.
/// </summary>
public sealed class StorageSettings
{
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgres";

    private readonly string? _postgresConnectionString;

    private StorageSettings(string provider, string? postgresConnectionString)
    {
        Provider = provider;
        _postgresConnectionString = postgresConnectionString;
    }

    /// <summary><c>sqlite</c> or <c>postgres</c>.</summary>
    public string Provider { get; }

    /// <summary>Reads and validates the storage section; errors name the setting, never its value.</summary>
    /// <exception cref="OptionsValidationException">Unknown provider, or postgres without a connection string.</exception>
    public static StorageSettings From(IConfiguration configuration)
    {
        var provider = configuration["Storage:Provider"]?.Trim();
        if (string.IsNullOrEmpty(provider) || string.Equals(provider, Sqlite, StringComparison.OrdinalIgnoreCase))
        {
            return new StorageSettings(Sqlite, null);
        }

        if (!string.Equals(provider, Postgres, StringComparison.OrdinalIgnoreCase))
        {
            throw Invalid($"Storage:Provider '{provider}' is not supported (use sqlite or postgres)");
        }

        var connectionString = configuration["Storage:Postgres"];
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw Invalid("Storage:Provider is postgres but no connection string is set: pass --postgres \"Host=...;Username=...;Password=...;Database=...\" or set Storage:Postgres");
        }

        return new StorageSettings(Postgres, connectionString);
    }

    /// <summary>Opens (does not migrate) the configured store.</summary>
    /// <exception cref="OptionsValidationException">The connection string is malformed.</exception>
    public IMogplexStore Open(string dataDir, ILoggerFactory? loggerFactory)
    {
        if (Provider == Sqlite)
        {
            return new SqliteMogplexStore(DataDirectory.DatabasePath(dataDir));
        }

        try
        {
            return new PostgresMogplexStore(_postgresConnectionString!, loggerFactory);
        }
        catch (ArgumentException ex)
        {
            // The provider's message names a keyword at most, never a value.
            throw Invalid("Storage:Postgres: " + ex.Message);
        }
    }

    /// <summary>Where the data lives, safe to log: the provider, and for PostgreSQL host, port and database.</summary>
    public static string Describe(IMogplexStore store) => store is PostgresMogplexStore postgres ? $"postgres {postgres.Target}" : store.ProviderName;

    public override string ToString() => Provider;

    private static OptionsValidationException Invalid(string message) => new("Storage", typeof(StorageSettings), [message]);
}
