using Mogplex.Server.Configuration;
using Mogplex.Storage;
using Mogplex.Storage.Sqlite;

namespace Mogplex.Server.Commands;

/// <summary>
/// What an operator command needs: the same data folder and store the server uses. Operator
/// commands may run while the server serves; the store handles the concurrency.
/// </summary>
public sealed class OperatorContext : IDisposable
{
    private readonly SqliteMogplexStore _store;

    private OperatorContext(string dataDir, SqliteMogplexStore store)
    {
        DataDir = dataDir;
        _store = store;
    }

    public string DataDir { get; }

    public IMogplexStore Store => _store;

    public TimeProvider Time { get; } = TimeProvider.System;

    public static async Task<OperatorContext> OpenAsync(string? dataDirOption, string? storage, CancellationToken ct)
    {
        if (storage is not null && !string.Equals(storage, "sqlite", StringComparison.OrdinalIgnoreCase))
        {
            throw new OperatorException($"--storage {storage} is not supported (use sqlite)");
        }

        var dataDir = DataDirectory.Resolve(dataDirOption);
        DataDirectory.Prepare(dataDir);
        var store = new SqliteMogplexStore(DataDirectory.DatabasePath(dataDir));
        await store.MigrateAsync(ct);
        return new OperatorContext(dataDir, store);
    }

    /// <summary>The named user (default <c>admin</c>, created on first use); another name must exist.</summary>
    public async Task<UserRecord> ResolveUserAsync(string? name, CancellationToken ct)
    {
        if (name is null or "admin")
        {
            return await Store.Users.EnsureUserAsync("admin", Time.GetUtcNow(), ct);
        }

        return await Store.Users.FindUserAsync(name, ct) ?? throw new OperatorException($"user '{name}' does not exist (add it with: mogplexd user add {name})");
    }

    public void Dispose() => _store.Dispose();
}

/// <summary>An operator error with a message for people; exit code 1.</summary>
public sealed class OperatorException(string message) : Exception(message);
