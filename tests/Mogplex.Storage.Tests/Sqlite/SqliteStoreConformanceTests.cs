using Microsoft.Data.Sqlite;
using Mogplex.Storage.Sqlite;
using Mogplex.Storage.Tests.Conformance;

namespace Mogplex.Storage.Tests.Sqlite;

/// <summary>The storage contract on SQLite: each test gets its own temp folder and database files.</summary>
public sealed class SqliteStoreConformanceTests : StoreConformanceTests
{
    private readonly SqliteTempFolder _folder = new();

    protected override async Task<IMogplexStore> CreateStoreAsync()
    {
        var store = _folder.NewStore();
        await store.MigrateAsync(Ct);
        return store;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _folder.Dispose();
        }

        base.Dispose(disposing);
    }
}

/// <summary>A temp folder for SQLite files; disposing it disposes its stores and deletes the folder.</summary>
internal sealed class SqliteTempFolder : IDisposable
{
    private readonly List<SqliteMogplexStore> _stores = [];
    private int _next;

    public SqliteTempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "mogplex-storage-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    /// <summary>A path for a new database file in this folder.</summary>
    public string NewDatabasePath() => System.IO.Path.Combine(Path, $"store-{Interlocked.Increment(ref _next)}.db");

    /// <summary>A store (not migrated) on <paramref name="databasePath"/>, or on a new file.</summary>
    public SqliteMogplexStore NewStore(string? databasePath = null)
    {
        var store = new SqliteMogplexStore(databasePath ?? NewDatabasePath());
        lock (_stores)
        {
            _stores.Add(store);
        }

        return store;
    }

    /// <summary>A plain connection to a database file, for checks below the store interfaces.</summary>
    public static SqliteConnection Open(string databasePath)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databasePath, Mode = SqliteOpenMode.ReadWrite, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    public void Dispose()
    {
        foreach (var store in _stores)
        {
            store.Dispose();
        }

        // Pooled connections keep the files open (and locked on Windows) until cleared.
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A file still held by another test's pool clear race is left to the OS temp cleanup.
        }
    }
}
