using Microsoft.Data.Sqlite;
using Mogplex.Contracts.Runs;
using Mogplex.Storage.Sqlite;

namespace Mogplex.Storage.Tests.Sqlite;

/// <summary>
/// SQLite-only: invariants the database itself enforces (checked with raw SQL beside the store)
/// and migrations. Everything provider-agnostic lives in the conformance contract.
/// </summary>
public sealed class SqliteDatabaseInvariantTests : IDisposable
{
    private static readonly DateTimeOffset s_start = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);

    private readonly SqliteTempFolder _folder = new();
    private readonly CancellationTokenSource _timeout;

    public SqliteDatabaseInvariantTests()
    {
        _timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        _timeout.CancelAfter(TimeSpan.FromSeconds(30));
    }

    private CancellationToken Ct => _timeout.Token;

    public void Dispose()
    {
        _folder.Dispose();
        _timeout.Dispose();
    }

    [Theory]
    [InlineData(RunStatuses.Success, RunStatuses.Failed)]
    [InlineData(RunStatuses.Failed, RunStatuses.Success)]
    [InlineData(RunStatuses.Cancelled, RunStatuses.Streaming)]
    [InlineData(RunStatuses.Success, RunStatuses.Pending)]
    public async Task RawUpdate_TerminalRunStatusChanged_RejectedByDatabase(string terminal, string to)
    {
        var (store, runId) = await CreateRunAsync(events: 0);
        Assert.NotNull(await store.Runs.TransitionAsync(new RunTransition { RunId = runId, From = [RunStatuses.Pending], To = terminal, At = s_start }, Ct));

        using var connection = SqliteTempFolder.Open(store.DatabasePath);
        using var update = connection.CreateCommand();
        // finished_at follows the status, so only the trigger (not the CHECK) can object.
        update.CommandText = "UPDATE runs SET status = $to, finished_at = CASE WHEN $terminal THEN finished_at END WHERE id = $id";
        update.Parameters.AddWithValue("$to", to);
        update.Parameters.AddWithValue("$terminal", RunStatuses.IsTerminal(to));
        update.Parameters.AddWithValue("$id", runId);

        var error = Assert.Throws<SqliteException>(() => update.ExecuteNonQuery());

        Assert.Contains("run status is terminal", error.Message, StringComparison.Ordinal);
        Assert.Equal(terminal, (await store.Runs.GetRunAsync(runId, null, Ct))!.Status);
    }

    [Fact]
    public async Task RawUpdate_ActiveRunStatusChanged_Allowed()
    {
        var (store, runId) = await CreateRunAsync(events: 0);

        using var connection = SqliteTempFolder.Open(store.DatabasePath);
        using var update = connection.CreateCommand();
        update.CommandText = "UPDATE runs SET status = 'streaming' WHERE id = $id";
        update.Parameters.AddWithValue("$id", runId);

        Assert.Equal(1, update.ExecuteNonQuery());
        Assert.Equal(RunStatuses.Streaming, (await store.Runs.GetRunAsync(runId, null, Ct))!.Status);
    }

    [Theory]
    [InlineData("UPDATE run_events SET message = 'rewritten' WHERE run_id = $id")]
    [InlineData("DELETE FROM run_events WHERE run_id = $id")]
    public async Task RawWrite_RunEventChangedOrDeleted_RejectedByDatabase(string sql)
    {
        var (store, runId) = await CreateRunAsync(events: 3);

        using var connection = SqliteTempFolder.Open(store.DatabasePath);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$id", runId);

        var error = Assert.Throws<SqliteException>(() => command.ExecuteNonQuery());

        Assert.Contains("run events are append-only", error.Message, StringComparison.Ordinal);
        Assert.Equal(["e1", "e2", "e3"], (await store.Events.ListAsync(runId, 0, 100, Ct)).Select(e => e.Message));
    }

    [Fact]
    public async Task RawDelete_FinishedRunEvents_AllowedWhileUpdatesStayRejected()
    {
        var (store, runId) = await CreateRunAsync(events: 3);
        Assert.NotNull(await store.Runs.TransitionAsync(new RunTransition { RunId = runId, From = [RunStatuses.Pending], To = RunStatuses.Success, At = s_start }, Ct));
        using var connection = SqliteTempFolder.Open(store.DatabasePath);
        using var update = connection.CreateCommand();
        update.CommandText = "UPDATE run_events SET message = 'rewritten' WHERE run_id = $id";
        update.Parameters.AddWithValue("$id", runId);
        Assert.Contains("run events are append-only", Assert.Throws<SqliteException>(() => update.ExecuteNonQuery()).Message, StringComparison.Ordinal);
        using var delete = connection.CreateCommand();
        delete.CommandText = "DELETE FROM run_events WHERE run_id = $id";
        delete.Parameters.AddWithValue("$id", runId);

        Assert.Equal(3, delete.ExecuteNonQuery());

        Assert.Empty(await store.Events.ListAsync(runId, 0, 100, Ct));
    }

    [Fact]
    public async Task Migrate_Twice_IsIdempotentAndStoreWorks()
    {
        var store = _folder.NewStore();

        await store.MigrateAsync(Ct);
        await store.MigrateAsync(Ct);

        Assert.Equal(s_migrationScripts, CountAppliedScripts(store.DatabasePath));
        Assert.True(await store.PingAsync(Ct));
        Assert.Equal("admin", (await store.Users.EnsureUserAsync("admin", s_start, Ct)).Name);
    }

    [Fact]
    public async Task Migrate_ReopenedFile_KeepsDataAndAppliesNothingNew()
    {
        var path = _folder.NewDatabasePath();
        var first = _folder.NewStore(path);
        await first.MigrateAsync(Ct);
        var user = await first.Users.AddUserAsync("alice", s_start, Ct);

        var second = _folder.NewStore(path);
        await second.MigrateAsync(Ct);

        Assert.Equal(user, await second.Users.FindUserAsync("alice", Ct));
        Assert.Equal(s_migrationScripts, CountAppliedScripts(path));
    }

    [Fact]
    public async Task Migrate_TwoStoresOnOneFileConcurrently_BothSucceedOnce()
    {
        var path = _folder.NewDatabasePath();
        var stores = Enumerable.Range(0, 4).Select(_ => _folder.NewStore(path)).ToList();

        await Task.WhenAll(stores.Select(s => Task.Run(() => s.MigrateAsync(Ct), Ct)));

        Assert.Equal(s_migrationScripts, CountAppliedScripts(path));
        foreach (var store in stores)
        {
            Assert.True(await store.PingAsync(Ct));
        }

        var user = await stores[0].Users.AddUserAsync("alice", s_start, Ct);
        Assert.Equal(user, await stores[3].Users.FindUserAsync("alice", Ct));
    }

    [Fact]
    public async Task Migrate_NewFile_UsesWalJournal()
    {
        var store = _folder.NewStore();
        await store.MigrateAsync(Ct);

        using var connection = SqliteTempFolder.Open(store.DatabasePath);
        using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA journal_mode;";

        Assert.Equal("wal", pragma.ExecuteScalar() as string);
        Assert.Equal("sqlite", store.ProviderName);
    }

    private async Task<(SqliteMogplexStore Store, string RunId)> CreateRunAsync(int events)
    {
        var store = _folder.NewStore();
        await store.MigrateAsync(Ct);
        var user = await store.Users.AddUserAsync("alice", s_start, Ct);
        var repo = await store.Repos.AddRepoAsync(new NewRepo(Guid.NewGuid().ToString(), user.Id, "acme/widget", "main", ".", "local:/srv", null, s_start), Ct);
        var run = new RunRecord
        {
            Id = Guid.NewGuid().ToString(),
            UserId = user.Id,
            RepoId = repo.Id,
            AiCallId = Guid.NewGuid().ToString(),
            Harness = "codex",
            Status = RunStatuses.Pending,
            BaseBranch = "main",
            WorkingBranch = "main",
            CreateBranch = false,
            RootDirectory = ".",
            Prompt = "Fix the build",
            CreatedAt = s_start,
            UpdatedAt = s_start,
        };
        NewRunEvent[] initial = [.. Enumerable.Range(1, events).Select(i => new NewRunEvent("message", null, $"e{i}", null))];
        var result = await store.Runs.CreateRunAsync(new CreateRunCommand(run, "key", "hash", "bucket", [], initial), Ct);
        return (store, Assert.IsType<CreateRunResult.Created>(result).Run.Id);
    }

    /// <summary>Every migration script shipped in the provider, each applied exactly once.</summary>
    private static readonly long s_migrationScripts = typeof(SqliteMogplexStore).Assembly.GetManifestResourceNames().Count(n => n.EndsWith(".sql", StringComparison.Ordinal));

    private static long CountAppliedScripts(string databasePath)
    {
        using var connection = SqliteTempFolder.Open(databasePath);
        using var count = connection.CreateCommand();
        count.CommandText = "SELECT count(*) FROM SchemaVersions";
        return (long)count.ExecuteScalar()!;
    }
}
