using DbUp;
using Mogplex.Storage.Sqlite.Stores;

namespace Mogplex.Storage.Sqlite;

/// <summary>The embedded default provider: one SQLite file in the data folder.</summary>
public sealed class SqliteMogplexStore : IMogplexStore, IDisposable
{
    private readonly SqliteDatabase _db;

    public SqliteMogplexStore(string databasePath, IRunChangeNotifier? notifier = null)
    {
        _db = new SqliteDatabase(databasePath);
        Changes = notifier ?? new InProcessRunChangeNotifier();
        Users = new SqliteUserStore(_db);
        Tokens = new SqliteTokenStore(_db);
        Repos = new SqliteRepoStore(_db);
        Runs = new SqliteRunStore(_db, Changes);
        Queue = new SqliteRunQueue(_db, Changes);
        Events = new SqliteRunEventLog(_db, Changes);
        RateLimits = new SqliteRateLimitStore(_db);
        Sandboxes = new SqliteSandboxStore(_db);
        Approvals = new SqliteApprovalStore(_db, Changes);
        Sessions = new SqliteRunSessionStore(_db, Changes);
    }

    public string ProviderName => "sqlite";

    /// <summary>The database file.</summary>
    public string DatabasePath => _db.Path;

    public IUserStore Users { get; }
    public ITokenStore Tokens { get; }
    public IRepoStore Repos { get; }
    public IRunStore Runs { get; }
    public IRunQueue Queue { get; }
    public IRunEventLog Events { get; }
    public IRateLimitStore RateLimits { get; }
    public ISandboxStore Sandboxes { get; }
    public IApprovalStore Approvals { get; }

    public IRunSessionStore Sessions { get; }
    public IRunChangeNotifier Changes { get; }

    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        // Several processes (the server, operator commands) may start at once: an exclusive lock
        // file makes migrations run one at a time, and DbUp's journal makes them run once.
        await using var gate = await AcquireMigrationLockAsync(_db.Path + ".migrate.lock", cancellationToken);
        await _db.ReadAsync(async c =>
        {
            using var wal = c.CreateCommand();
            wal.CommandText = "PRAGMA journal_mode=WAL;";
            await wal.ExecuteNonQueryAsync(cancellationToken);
            return 0;
        }, cancellationToken);
        var upgrader = DeployChanges.To
            .SqliteDatabase(_db.ConnectionString)
            .WithScriptsEmbeddedInAssembly(typeof(SqliteMogplexStore).Assembly)
            .WithTransactionPerScript()
            .LogToNowhere()
            .Build();
        var result = upgrader.PerformUpgrade();
        if (!result.Successful)
        {
            throw new StorageUnavailableException($"SQLite migration {result.ErrorScript?.Name} failed: {result.Error.Message}", result.Error);
        }
    }

    public Task<bool> PingAsync(CancellationToken cancellationToken) =>
        _db.ReadAsync(async c =>
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT 1";
            return Convert.ToInt64(await cmd.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) == 1;
        }, cancellationToken);

    public void Dispose() => _db.Dispose();

    private static async Task<FileStream> AcquireMigrationLockAsync(string path, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50, cancellationToken);
            }
        }
    }
}
