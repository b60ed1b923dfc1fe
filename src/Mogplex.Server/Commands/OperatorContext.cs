using Mogplex.Server.Configuration;
using Mogplex.Storage;

namespace Mogplex.Server.Commands;

/// <summary>
/// What an operator command needs: the same data folder and store the server uses (the same
/// configuration sources pick it: <c>mogplexd.json</c>, <c>MOGPLEXD_Storage__*</c>, then the
/// <c>--storage</c>/<c>--postgres</c> flags). Operator commands may run while the server serves;
/// the store handles the concurrency.
/// </summary>
public sealed class OperatorContext : IDisposable
{
    private readonly IMogplexStore _store;

    private OperatorContext(string dataDir, IMogplexStore store)
    {
        DataDir = dataDir;
        _store = store;
    }

    public string DataDir { get; }

    public IMogplexStore Store => _store;

    public TimeProvider Time { get; } = TimeProvider.System;

    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">The storage settings are invalid.</exception>
    public static async Task<OperatorContext> OpenAsync(string? dataDirOption, string? storage, string? postgres, CancellationToken ct)
    {
        var dataDir = DataDirectory.Resolve(dataDirOption);
        DataDirectory.Prepare(dataDir);
        IConfiguration configuration;
        try
        {
            configuration = new ConfigurationBuilder()
                .AddMogplexdSources(dataDir, MogplexdConfiguration.StorageOverrides(storage, postgres))
                .Build();
        }
        catch (InvalidDataException ex)
        {
            throw new OperatorException(ex.Message);
        }

        var store = StorageSettings.From(configuration).Open(dataDir, loggerFactory: null);
        try
        {
            await store.MigrateAsync(ct);
        }
        catch
        {
            (store as IDisposable)?.Dispose();
            throw;
        }

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

    public void Dispose() => (_store as IDisposable)?.Dispose();
}

/// <summary>An operator error with a message for people; exit code 1.</summary>
public sealed class OperatorException(string message) : Exception(message);
