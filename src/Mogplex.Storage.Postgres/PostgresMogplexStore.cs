using Dapper;
using DbUp;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Mogplex.Storage.Postgres.Stores;

namespace Mogplex.Storage.Postgres;

/// <summary>
/// The shared provider: one PostgreSQL database that several <c>mogplexd</c> nodes use at once.
/// Tables live in the first schema of the connection's search path (<c>public</c> by default).
/// </summary>
public sealed class PostgresMogplexStore : IMogplexStore, IAsyncDisposable, IDisposable
{
    private readonly PostgresDatabase _db;
    private readonly PostgresRunChangeNotifier _changes;
    private int _disposed;

    /// <param name="connectionString">An Npgsql connection string; it is never logged nor put in an error.</param>
    /// <param name="loggerFactory">Logs of the change listener (reconnects).</param>
    /// <exception cref="ArgumentException">The connection string is malformed (the message names no value).</exception>
    public PostgresMogplexStore(string connectionString, ILoggerFactory? loggerFactory = null)
    {
        _db = new PostgresDatabase(connectionString);
        _changes = new PostgresRunChangeNotifier(_db.ConnectionString, (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<PostgresRunChangeNotifier>());
        Users = new PostgresUserStore(_db);
        Tokens = new PostgresTokenStore(_db);
        Repos = new PostgresRepoStore(_db);
        Runs = new PostgresRunStore(_db, _changes);
        Queue = new PostgresRunQueue(_db, _changes);
        Events = new PostgresRunEventLog(_db, _changes);
        RateLimits = new PostgresRateLimitStore(_db);
        Sandboxes = new PostgresSandboxStore(_db);
        Approvals = new PostgresApprovalStore(_db, _changes);
        Sessions = new PostgresRunSessionStore(_db, _changes);
    }

    public string ProviderName => "postgres";

    /// <summary>Host, port and database: safe to log (no user, no password).</summary>
    public string Target => _db.Target;

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

    /// <summary>In-process wake-ups plus LISTEN/NOTIFY, so followers on every node wake on a change.</summary>
    public IRunChangeNotifier Changes => _changes;

    /// <summary>
    /// Starts the change listener (it also starts on the first <see cref="IRunChangeNotifier.NextChangeAsync"/>)
    /// and completes once it listens: from then on no change committed by any node is missed.
    /// </summary>
    public Task StartListeningAsync(CancellationToken cancellationToken) => _changes.WhenListeningAsync(cancellationToken);

    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        // Several nodes may start at once: a session advisory lock (keyed on database and schema)
        // makes them migrate one at a time, and DbUp's journal makes each script run once. The lock
        // goes with the connection, so a node that dies while migrating releases it.
        await using var gate = await _db.OpenAsync(cancellationToken);
        try
        {
            var schema = await gate.ExecuteScalarAsync<string?>(PostgresDatabase.Command("SELECT current_schema()", null, null, cancellationToken))
                ?? throw new StorageUnavailableException("PostgreSQL migration failed: the search path names no existing schema");
            await gate.ExecuteAsync(PostgresDatabase.Command(
                "SELECT pg_advisory_lock(@LockClass, hashtext(current_database() || '.' || @schema))",
                new { LockClass = PostgresDatabase.MigrationLockClass, schema },
                null,
                cancellationToken));
            try
            {
                var upgrader = DeployChanges.To
                    .PostgresqlDatabase(_db.ConnectionString, schema)
                    .JournalToPostgresqlTable(schema, "schemaversions")
                    .WithScriptsEmbeddedInAssembly(typeof(PostgresMogplexStore).Assembly)
                    .WithTransactionPerScript()
                    .LogToNowhere()
                    .Build();
                var result = await Task.Run(upgrader.PerformUpgrade, cancellationToken);
                if (!result.Successful)
                {
                    throw PostgresDatabase.Translate(result.Error) as StorageUnavailableException
                        ?? new StorageUnavailableException($"PostgreSQL migration {result.ErrorScript?.Name} failed: {result.Error.Message}", result.Error);
                }
            }
            finally
            {
                await gate.ExecuteAsync(PostgresDatabase.Command(
                    "SELECT pg_advisory_unlock(@LockClass, hashtext(current_database() || '.' || @schema))",
                    new { LockClass = PostgresDatabase.MigrationLockClass, schema },
                    null,
                    CancellationToken.None));
            }
        }
        catch (Exception ex) when (PostgresDatabase.Translate(ex) is { } mapped)
        {
            throw mapped;
        }
    }

    public Task<bool> PingAsync(CancellationToken cancellationToken) =>
        _db.ReadAsync(async c => await c.ExecuteScalarAsync<int>(PostgresDatabase.Command("SELECT 1", null, null, cancellationToken)) == 1, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _changes.DisposeAsync();
        await _db.DisposeAsync();
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
