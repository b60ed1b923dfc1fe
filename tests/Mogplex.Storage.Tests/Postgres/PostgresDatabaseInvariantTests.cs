using Mogplex.Contracts.Runs;
using Mogplex.Storage.Postgres;
using Mogplex.Testing.Postgres;
using Npgsql;

namespace Mogplex.Storage.Tests.Postgres;

/// <summary>
/// PostgreSQL only: invariants the database itself enforces (checked with raw SQL beside the
/// store), migrations from several nodes at once, and how failures reach the caller.
/// </summary>
public sealed class PostgresDatabaseInvariantTests : IDisposable
{
    private static readonly DateTimeOffset s_start = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);

    /// <summary>Every migration script shipped in the provider.</summary>
    private static readonly long s_migrationScripts = typeof(PostgresMogplexStore).Assembly.GetManifestResourceNames().Count(n => n.EndsWith(".sql", StringComparison.Ordinal));

    private readonly PostgresTestCluster _cluster;
    private readonly PostgresTestSchemas _schemas;
    private readonly CancellationTokenSource _timeout;

    public PostgresDatabaseInvariantTests(PostgresTestCluster cluster)
    {
        _cluster = cluster;
        _schemas = new PostgresTestSchemas(cluster);
        _timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        _timeout.CancelAfter(TimeSpan.FromSeconds(60));
    }

    private CancellationToken Ct => _timeout.Token;

    public void Dispose()
    {
        _schemas.Dispose();
        _timeout.Dispose();
    }

    [Theory]
    [InlineData(RunStatuses.Success, RunStatuses.Failed)]
    [InlineData(RunStatuses.Failed, RunStatuses.Success)]
    [InlineData(RunStatuses.Cancelled, RunStatuses.Streaming)]
    [InlineData(RunStatuses.Success, RunStatuses.Pending)]
    public async Task RawUpdate_TerminalRunStatusChanged_RejectedByDatabase(string terminal, string to)
    {
        var (store, connectionString, runId) = await CreateRunAsync(events: 0);
        Assert.NotNull(await store.Runs.TransitionAsync(new RunTransition { RunId = runId, From = [RunStatuses.Pending], To = terminal, At = s_start }, Ct));

        await using var connection = PostgresTestSchemas.Open(connectionString);
        // finished_at follows the status, so only the trigger (not the CHECK) can object.
        await using var update = new NpgsqlCommand("UPDATE runs SET status = @to, finished_at = CASE WHEN @terminal THEN finished_at END WHERE id = @id", connection);
        update.Parameters.AddWithValue("to", to);
        update.Parameters.AddWithValue("terminal", RunStatuses.IsTerminal(to));
        update.Parameters.AddWithValue("id", runId);

        var error = await Assert.ThrowsAsync<PostgresException>(() => update.ExecuteNonQueryAsync(Ct));

        Assert.Equal("run status is terminal", error.MessageText);
        Assert.Equal(PostgresErrorCodes.IntegrityConstraintViolation, error.SqlState);
        Assert.Equal(terminal, (await store.Runs.GetRunAsync(runId, null, Ct))!.Status);
    }

    [Fact]
    public async Task RawUpdate_ActiveRunStatusChanged_Allowed()
    {
        var (store, connectionString, runId) = await CreateRunAsync(events: 0);

        await using var connection = PostgresTestSchemas.Open(connectionString);
        await using var update = new NpgsqlCommand("UPDATE runs SET status = 'streaming' WHERE id = @id", connection);
        update.Parameters.AddWithValue("id", runId);

        Assert.Equal(1, await update.ExecuteNonQueryAsync(Ct));
        Assert.Equal(RunStatuses.Streaming, (await store.Runs.GetRunAsync(runId, null, Ct))!.Status);
    }

    [Theory]
    [InlineData("UPDATE run_events SET message = 'rewritten' WHERE run_id = @id")]
    [InlineData("DELETE FROM run_events WHERE run_id = @id")]
    [InlineData("TRUNCATE run_events")]
    public async Task RawWrite_RunEventChangedOrDeleted_RejectedByDatabase(string sql)
    {
        var (store, connectionString, runId) = await CreateRunAsync(events: 3);

        await using var connection = PostgresTestSchemas.Open(connectionString);
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("id", runId);

        var error = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync(Ct));

        Assert.Equal("run events are append-only", error.MessageText);
        Assert.Equal(["e1", "e2", "e3"], (await store.Events.ListAsync(runId, 0, 100, Ct)).Select(e => e.Message));
    }

    [Fact]
    public async Task RawDelete_FinishedRunEvents_AllowedWhileUpdatesStayRejected()
    {
        var (store, connectionString, runId) = await CreateRunAsync(events: 3);
        Assert.NotNull(await store.Runs.TransitionAsync(new RunTransition { RunId = runId, From = [RunStatuses.Pending], To = RunStatuses.Success, At = s_start }, Ct));
        await using var connection = PostgresTestSchemas.Open(connectionString);
        await using var update = new NpgsqlCommand("UPDATE run_events SET message = 'rewritten' WHERE run_id = @id", connection);
        update.Parameters.AddWithValue("id", runId);
        Assert.Equal("run events are append-only", (await Assert.ThrowsAsync<PostgresException>(() => update.ExecuteNonQueryAsync(Ct))).MessageText);
        await using var delete = new NpgsqlCommand("DELETE FROM run_events WHERE run_id = @id", connection);
        delete.Parameters.AddWithValue("id", runId);

        Assert.Equal(3, await delete.ExecuteNonQueryAsync(Ct));

        Assert.Empty(await store.Events.ListAsync(runId, 0, 100, Ct));
    }

    [Fact]
    public async Task Migrate_FourNodesConcurrentlyThenAgain_EachScriptAppliedOnce()
    {
        var connectionString = await _schemas.NewSchemaAsync(Ct);
        var nodes = Enumerable.Range(0, 4).Select(_ => _schemas.NewStore(connectionString)).ToList();

        await Task.WhenAll(nodes.Select(n => Task.Run(() => n.MigrateAsync(Ct), Ct)));
        await nodes[0].MigrateAsync(Ct);

        Assert.Equal(s_migrationScripts, await CountAppliedScriptsAsync(connectionString));
        foreach (var node in nodes)
        {
            Assert.True(await node.PingAsync(Ct));
        }

        var user = await nodes[0].Users.AddUserAsync("alice", s_start, Ct);
        Assert.Equal(user, await nodes[3].Users.FindUserAsync("alice", Ct));
        Assert.Equal("postgres", nodes[0].ProviderName);
    }

    [Fact]
    public async Task Migrate_TablesGoToTheSearchPathSchema_OtherSchemasUntouched()
    {
        var first = await _schemas.NewMigratedStoreAsync(Ct);
        var second = await _schemas.NewMigratedStoreAsync(Ct);

        await first.Users.AddUserAsync("alice", s_start, Ct);

        Assert.Empty(await second.Users.ListUsersAsync(Ct));
        Assert.Equal("alice", Assert.Single(await first.Users.ListUsersAsync(Ct)).Name);
    }

    [Fact]
    public async Task Ping_WrongPassword_StorageUnavailableWithoutThePassword()
    {
        var builder = new NpgsqlConnectionStringBuilder(await _cluster.GetConnectionStringAsync()) { Password = "wrong-Secret-4711" };
        var store = _schemas.NewStore(builder.ConnectionString);

        var error = await Assert.ThrowsAsync<StorageUnavailableException>(() => store.PingAsync(Ct));

        Assert.StartsWith("The database is unavailable: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("password authentication failed", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-Secret-4711", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Migrate_NothingListening_StorageUnavailableWithoutThePassword()
    {
        // Port 1 on loopback: nothing listens there, the connection is refused at once.
        var store = _schemas.NewStore("Host=127.0.0.1;Port=1;Username=mogplex;Password=hunter2-Secret;Database=mogplex;Timeout=5");

        var error = await Assert.ThrowsAsync<StorageUnavailableException>(() => store.MigrateAsync(Ct));

        Assert.StartsWith("The database is unavailable: ", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2-Secret", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Create_MalformedConnectionString_ArgumentExceptionWithoutValues()
    {
        var error = Assert.Throws<ArgumentException>(() => new PostgresMogplexStore("Host=127.0.0.1;Password=hunter2-Secret;Port=not-a-number"));

        Assert.StartsWith("The PostgreSQL connection string is invalid", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2-Secret", error.ToString(), StringComparison.Ordinal);
    }

    private async Task<(PostgresMogplexStore Store, string ConnectionString, string RunId)> CreateRunAsync(int events)
    {
        var connectionString = await _schemas.NewSchemaAsync(Ct);
        var store = _schemas.NewStore(connectionString);
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
        return (store, connectionString, Assert.IsType<CreateRunResult.Created>(result).Run.Id);
    }

    private async Task<long> CountAppliedScriptsAsync(string connectionString)
    {
        await using var connection = PostgresTestSchemas.Open(connectionString);
        await using var count = new NpgsqlCommand("SELECT count(*) FROM schemaversions", connection);
        return (long)(await count.ExecuteScalarAsync(Ct))!;
    }
}
