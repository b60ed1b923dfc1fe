using Mogplex.Storage.Postgres;
using Mogplex.Testing.Postgres;
using Npgsql;

namespace Mogplex.Storage.Tests.Postgres;

/// <summary>
/// The schemas and stores of one test: a new schema per call of <see cref="NewSchemaAsync"/>,
/// any number of stores ("nodes") on it; disposing disposes the stores and drops the schemas.
/// </summary>
internal sealed class PostgresTestSchemas(PostgresTestCluster cluster) : IDisposable
{
    private readonly List<PostgresMogplexStore> _stores = [];
    private readonly List<string> _schemas = [];

    /// <summary>A fresh, empty schema: the connection string names it as the search path.</summary>
    public async Task<string> NewSchemaAsync(CancellationToken cancellationToken)
    {
        var (connectionString, schema) = await cluster.CreateSchemaAsync(cancellationToken);
        lock (_schemas)
        {
            _schemas.Add(schema);
        }

        return connectionString;
    }

    /// <summary>A store (not migrated) on <paramref name="connectionString"/>; its listener gets its own application name.</summary>
    public PostgresMogplexStore NewStore(string connectionString, string? applicationName = null)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = applicationName ?? "mogplex-tests" };
        var store = new PostgresMogplexStore(builder.ConnectionString);
        lock (_stores)
        {
            _stores.Add(store);
        }

        return store;
    }

    /// <summary>A migrated store on a new schema.</summary>
    public async Task<PostgresMogplexStore> NewMigratedStoreAsync(CancellationToken cancellationToken)
    {
        var store = NewStore(await NewSchemaAsync(cancellationToken));
        await store.MigrateAsync(cancellationToken);
        return store;
    }

    public static NpgsqlConnection Open(string connectionString)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        connection.Open();
        return connection;
    }

    public void Dispose()
    {
        foreach (var store in _stores)
        {
            store.Dispose();
        }

        foreach (var schema in _schemas)
        {
            cluster.DropSchema(schema);
        }
    }
}
