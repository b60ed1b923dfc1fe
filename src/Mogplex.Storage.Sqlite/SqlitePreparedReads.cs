using Microsoft.Data.Sqlite;

namespace Mogplex.Storage.Sqlite;

/// <summary>
/// Reader connections kept open with their statements compiled, for the reads every request makes
/// (<c>GET /runs/{id}</c>). Microsoft.Data.Sqlite compiles a command's SQL for each new command and
/// keeps nothing across pooled opens; compiling the 30-column run select cost more than running it
/// (docs/benchmarks.md). A connection serves one read at a time: taken from the idle
/// ones, given back when the read succeeded, disposed when it failed or when enough are idle. Each
/// read is its own autocommit statement and the reader's dispose resets it, so an idle connection
/// holds no read transaction: the next read sees every commit, and no checkpoint waits for it.
/// </summary>
internal sealed class SqlitePreparedReads(string connectionString) : IDisposable
{
    private static readonly int s_maxIdle = Math.Max(4, Environment.ProcessorCount * 2);

    private readonly Lock _lock = new();
    private readonly Stack<Session> _idle = new();
    private bool _disposed;

    /// <summary>Runs <paramref name="read"/> with <paramref name="statement"/>'s command, compiled once per connection; <paramref name="read"/> sets the parameter values and disposes its reader.</summary>
    public async Task<T> ReadAsync<T>(SqliteStatement statement, Func<SqliteCommand, Task<T>> read, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var session = Take() ?? await OpenAsync(cancellationToken);
        var healthy = false;
        try
        {
            var result = await read(session.Command(statement));
            healthy = true;
            return result;
        }
        finally
        {
            if (!healthy || !GiveBack(session))
            {
                session.Dispose();
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            while (_idle.TryPop(out var session))
            {
                session.Dispose();
            }
        }
    }

    /// <summary>An idle connection, or null. After <see cref="Dispose"/> every read opens its own and closes it again, as reads did before connections were kept.</summary>
    private Session? Take()
    {
        lock (_lock)
        {
            return _idle.TryPop(out var session) ? session : null;
        }
    }

    private bool GiveBack(Session session)
    {
        lock (_lock)
        {
            if (_disposed || _idle.Count >= s_maxIdle)
            {
                return false;
            }

            _idle.Push(session);
            return true;
        }
    }

    private async Task<Session> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            return new Session(connection);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private sealed class Session(SqliteConnection connection) : IDisposable
    {
        private readonly Dictionary<SqliteStatement, SqliteCommand> _commands = [];

        public SqliteCommand Command(SqliteStatement statement)
        {
            if (!_commands.TryGetValue(statement, out var command))
            {
                command = connection.CreateCommand();
                command.CommandText = statement.Sql;
                foreach (var name in statement.Parameters)
                {
                    command.Parameters.Add(new SqliteParameter { ParameterName = name });
                }

                command.Prepare();
                _commands.Add(statement, command);
            }

            return command;
        }

        public void Dispose()
        {
            foreach (var command in _commands.Values)
            {
                command.Dispose();
            }

            connection.Dispose();
        }
    }
}
