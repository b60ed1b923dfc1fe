using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Mogplex.Storage.Sqlite;

/// <summary>
/// Connections to one SQLite file. SQLite has a single writer: writes in this process queue on a
/// semaphore (fair and fast), and the busy timeout covers writers in other processes (operator
/// commands run while the server serves). Every write transaction is BEGIN IMMEDIATE, so a
/// read-then-write inside it can never be overtaken.
/// </summary>
internal sealed class SqliteDatabase : IDisposable
{
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly SqlitePreparedReads _preparedReads;

    public SqliteDatabase(string path)
    {
        Path = path;
        ConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            ForeignKeys = true,
            DefaultTimeout = 30,
        }.ToString();
        _preparedReads = new SqlitePreparedReads(ConnectionString);
    }

    public string Path { get; }

    public string ConnectionString { get; }

    public async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch (SqliteException ex)
        {
            await connection.DisposeAsync();
            throw Translate(ex);
        }
    }

    /// <summary>Runs <paramref name="work"/> in one BEGIN IMMEDIATE transaction and commits it.</summary>
    public async Task<T> WriteAsync<T>(Func<SqliteConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            await using var connection = await OpenAsync(cancellationToken);
            using (var pragma = connection.CreateCommand())
            {
                // Only writers care: WAL persists in the file; synchronous=NORMAL is per connection and
                // with WAL keeps every committed transaction across a process crash (an OS crash can
                // lose the last ones). Readers skip the round trip. Busy waits use DefaultTimeout.
                pragma.CommandText = "PRAGMA synchronous=NORMAL;";
                await pragma.ExecuteNonQueryAsync(cancellationToken);
            }

            await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.Serializable, cancellationToken);
            var result = await work(connection, transaction);
            await transaction.CommitAsync(cancellationToken);
            return result;
        }
        catch (SqliteException ex)
        {
            throw Translate(ex);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Runs a read on its own connection (WAL readers never block the writer).</summary>
    public async Task<T> ReadAsync<T>(Func<SqliteConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await OpenAsync(cancellationToken);
            return await work(connection);
        }
        catch (SqliteException ex)
        {
            throw Translate(ex);
        }
    }

    /// <summary>A read on a kept connection with <paramref name="statement"/> compiled once (see <see cref="SqlitePreparedReads"/>): for the reads on every request.</summary>
    public async Task<T> ReadPreparedAsync<T>(SqliteStatement statement, Func<SqliteCommand, Task<T>> read, CancellationToken cancellationToken)
    {
        try
        {
            return await _preparedReads.ReadAsync(statement, read, cancellationToken);
        }
        catch (SqliteException ex)
        {
            throw Translate(ex);
        }
    }

    public void Dispose()
    {
        _preparedReads.Dispose();
        _writeLock.Dispose();
    }

    private static Exception Translate(SqliteException ex) => ex.SqliteErrorCode switch
    {
        // SQLITE_BUSY, SQLITE_LOCKED, SQLITE_CANTOPEN, SQLITE_FULL, SQLITE_IOERR
        5 or 6 or 14 or 13 or 10 => new StorageUnavailableException("The database is unavailable: " + ex.Message, ex),
        19 when ex.SqliteExtendedErrorCode is 2067 or 1555 => new DuplicateEntryException(ex.Message, ex),
        _ => ex,
    };
}
