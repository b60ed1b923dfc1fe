using System.Diagnostics;
using Npgsql;

namespace Mogplex.Testing.Postgres;

/// <summary>
/// The PostgreSQL server the tests use: the one named by <c>MOGPLEX_TEST_POSTGRES</c> (test.sh
/// starts a throwaway cluster and sets it), else a throwaway cluster this fixture starts with
/// <c>scripts/pg-cluster.sh</c> on first use and stops when disposed. When neither works, every
/// test that asks for it fails with the reason: PostgreSQL tests never pass silently.
/// Each test gets its own schema (<see cref="CreateSchemaAsync"/>), so tests are isolated.
/// </summary>
public sealed class PostgresTestCluster : IAsyncDisposable
{
    public const string Variable = "MOGPLEX_TEST_POSTGRES";

    private static readonly TimeSpan s_startTimeout = TimeSpan.FromMinutes(5);

    private readonly Lazy<Task<string>> _connectionString;
    private string? _startedDir;

    public PostgresTestCluster() => _connectionString = new(ResolveAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The connection string of the test database (its password included: test output only).</summary>
    public Task<string> GetConnectionStringAsync() => _connectionString.Value;

    /// <summary>Creates a fresh schema and returns a connection string whose search path is that schema.</summary>
    public async Task<(string ConnectionString, string Schema)> CreateSchemaAsync(CancellationToken cancellationToken)
    {
        var baseConnection = await GetConnectionStringAsync();
        var schema = "t_" + Guid.NewGuid().ToString("N");
        await using (var connection = new NpgsqlConnection(baseConnection))
        {
            await connection.OpenAsync(cancellationToken);
            await using var create = new NpgsqlCommand($"CREATE SCHEMA {schema}", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        return (new NpgsqlConnectionStringBuilder(baseConnection) { SearchPath = schema }.ConnectionString, schema);
    }

    /// <summary>Drops a schema made by <see cref="CreateSchemaAsync"/> (best effort: the cluster is throwaway).</summary>
    public void DropSchema(string schema)
    {
        if (!_connectionString.IsValueCreated || !_connectionString.Value.IsCompletedSuccessfully)
        {
            return;
        }

        try
        {
            using var connection = new NpgsqlConnection(_connectionString.Value.Result);
            connection.Open();
            using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {schema} CASCADE", connection);
            drop.ExecuteNonQuery();
        }
        catch (NpgsqlException)
        {
            // Left for the cluster's removal (or the operator of a shared server).
        }
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_startedDir is not null)
        {
            await RunScriptAsync("stop", _startedDir, CancellationToken.None);
        }
    }

    private async Task<string> ResolveAsync()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(Variable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            return fromEnvironment;
        }

        var dir = Path.Combine(Path.GetTempPath(), "mogplex-pg-" + Guid.NewGuid().ToString("N")[..12]);
        using var timeout = new CancellationTokenSource(s_startTimeout);
        var (exitCode, stdout, stderr) = await RunScriptAsync("start", dir, timeout.Token);
        _startedDir = dir;
        var connectionString = stdout.Trim().Split('\n')[^1].Trim();
        if (exitCode != 0 || !connectionString.StartsWith("Host=", StringComparison.Ordinal))
        {
            throw new InvalidOperationException(
                $"{Variable} is not set and scripts/pg-cluster.sh could not start a PostgreSQL cluster (exit {exitCode}). " +
                $"Set {Variable} to a connection string, or fix the script's error:\n{stderr}");
        }

        return connectionString;
    }

    private static async Task<(int ExitCode, string StdOut, string StdErr)> RunScriptAsync(string verb, string dir, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(LocateScript());
        start.ArgumentList.Add(verb);
        start.ArgumentList.Add(dir);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start bash");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"scripts/pg-cluster.sh {verb} did not finish within {s_startTimeout}");
        }

        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>scripts/pg-cluster.sh of the checkout the tests were built from.</summary>
    private static string LocateScript()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "scripts", "pg-cluster.sh");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException($"{Variable} is not set and scripts/pg-cluster.sh was not found above {AppContext.BaseDirectory}");
    }
}
