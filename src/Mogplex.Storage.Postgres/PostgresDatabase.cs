using System.Data;
using Dapper;
using Npgsql;

namespace Mogplex.Storage.Postgres;

/// <summary>
/// Connections to one PostgreSQL database (and the schema its search path names). Every write runs
/// in one READ COMMITTED transaction; what must not race is decided by the database (row locks taken
/// by UPDATE, unique indexes, FOR UPDATE SKIP LOCKED, transaction-scoped advisory locks), never by
/// a lock in this process, because other nodes share the database. Errors that mean "the database
/// cannot answer" become <see cref="StorageUnavailableException"/>; messages never carry the
/// connection string.
/// </summary>
internal sealed class PostgresDatabase : IAsyncDisposable
{
    /// <summary>Advisory lock classes (the first key of the two-key form): one per purpose.</summary>
    public const int MigrationLockClass = 0x6D6F6701;

    public const int RateLimitLockClass = 0x6D6F6702;

    public const int ClaimLockClass = 0x6D6F6703;

    private readonly NpgsqlDataSource _dataSource;

    public PostgresDatabase(string connectionString)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or KeyNotFoundException)
        {
            // The message names a keyword at most, never a value (the password stays out of it).
            throw new ArgumentException("The PostgreSQL connection string is invalid: " + ex.Message);
        }

        if (string.IsNullOrWhiteSpace(builder.Host))
        {
            throw new ArgumentException("The PostgreSQL connection string names no Host");
        }

        if (string.IsNullOrEmpty(builder.ApplicationName))
        {
            builder.ApplicationName = "mogplexd";
        }

        ConnectionString = builder.ConnectionString;
        Target = $"{builder.Host}:{builder.Port}/{builder.Database ?? builder.Username}";
        _dataSource = NpgsqlDataSource.Create(ConnectionString);
    }

    /// <summary>The full connection string (with its password): only for opening connections.</summary>
    public string ConnectionString { get; }

    /// <summary>Host, port and database, safe to log.</summary>
    public string Target { get; }

    public async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _dataSource.OpenConnectionAsync(cancellationToken);
        }
        catch (Exception ex) when (Translate(ex) is { } mapped)
        {
            throw mapped;
        }
    }

    /// <summary>Runs <paramref name="work"/> in one transaction and commits it.</summary>
    public Task<T> WriteAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> work, CancellationToken cancellationToken) =>
        WriteAsync(work, static _ => true, cancellationToken);

    /// <summary>
    /// Runs <paramref name="work"/> in one transaction, then commits it when <paramref name="commit"/>
    /// says so for the result, else rolls it back (a decision that must leave no trace).
    /// </summary>
    public async Task<T> WriteAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> work, Func<T, bool> commit, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
            var result = await work(connection, transaction);
            if (commit(result))
            {
                await transaction.CommitAsync(cancellationToken);
            }
            else
            {
                await transaction.RollbackAsync(cancellationToken);
            }

            return result;
        }
        catch (Exception ex) when (Translate(ex) is { } mapped)
        {
            throw mapped;
        }
    }

    /// <summary>Runs a read on its own connection (autocommit).</summary>
    public async Task<T> ReadAsync<T>(Func<NpgsqlConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
            return await work(connection);
        }
        catch (Exception ex) when (Translate(ex) is { } mapped)
        {
            throw mapped;
        }
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    /// <summary>A Dapper command that honours the caller's cancellation.</summary>
    public static CommandDefinition Command(string sql, object? parameters, IDbTransaction? transaction, CancellationToken cancellationToken) =>
        new(sql, parameters, transaction, cancellationToken: cancellationToken);

    /// <summary>The storage exception for <paramref name="ex"/>, or null to let it through as it is.</summary>
    public static Exception? Translate(Exception ex) => ex switch
    {
        PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } pg => new DuplicateEntryException(pg.MessageText, pg),
        PostgresException pg when IsUnavailable(pg.SqlState) => new StorageUnavailableException("The database is unavailable: " + pg.MessageText, pg),
        PostgresException => null,

        // Not an answer from the server: it could not be reached, the connection broke, a timeout
        // expired or the pool stayed exhausted. Npgsql's messages name the host at most.
        NpgsqlException npg => new StorageUnavailableException("The database is unavailable: " + npg.Message, npg),
        _ => null,
    };

    /// <summary>
    /// Connection exceptions (08), insufficient resources (53), operator intervention (57: shutdown,
    /// statement timeout), transaction rollbacks the caller may retry (40: serialization, deadlock),
    /// lock not available (55P03), and a database or role that cannot be used (3D000, 28).
    /// </summary>
    private static bool IsUnavailable(string sqlState) =>
        sqlState.StartsWith("08", StringComparison.Ordinal)
        || sqlState.StartsWith("53", StringComparison.Ordinal)
        || sqlState.StartsWith("57", StringComparison.Ordinal)
        || sqlState.StartsWith("40", StringComparison.Ordinal)
        || sqlState.StartsWith("28", StringComparison.Ordinal)
        || sqlState is PostgresErrorCodes.LockNotAvailable or PostgresErrorCodes.InvalidCatalogName;
}
