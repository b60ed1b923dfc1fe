using Mogplex.Contracts.Runs;
using Mogplex.Storage.Sqlite;

namespace Mogplex.Storage.Tests.Sqlite;

/// <summary>
/// SQLite-only: <c>GetRunAsync</c> reads on kept connections with the statement compiled once. A kept
/// connection must behave like a fresh one: it sees what another process committed since, and
/// while idle it holds no read transaction (a checkpoint can reset the WAL).
/// </summary>
public sealed class SqlitePreparedReadTests : IDisposable
{
    private static readonly DateTimeOffset s_start = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    private readonly SqliteTempFolder _folder = new();
    private readonly CancellationTokenSource _timeout;

    public SqlitePreparedReadTests()
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

    [Fact]
    public async Task GetRun_ChangedByAnotherProcessBetweenReads_EachReadSeesTheLatestCommit()
    {
        var (server, run) = await CreateRunAsync();
        var other = _folder.NewStore(server.DatabasePath);
        Assert.Equal(RunStatuses.Pending, (await server.Runs.GetRunAsync(run.Id, null, Ct))!.Status);

        await other.Runs.TransitionAsync(new RunTransition { RunId = run.Id, From = [RunStatuses.Pending], To = RunStatuses.Streaming, At = s_start.AddSeconds(1) }, Ct);
        var streaming = await server.Runs.GetRunAsync(run.Id, null, Ct);
        await other.Runs.TransitionAsync(new RunTransition { RunId = run.Id, From = [RunStatuses.Streaming], To = RunStatuses.Success, At = s_start.AddSeconds(2) }, Ct);
        var finished = await server.Runs.GetRunAsync(run.Id, run.UserId, Ct);

        Assert.Equal(RunStatuses.Streaming, streaming!.Status);
        Assert.Equal(RunStatuses.Success, finished!.Status);
        Assert.Equal(s_start.AddSeconds(2), finished.FinishedAt);
    }

    [Fact]
    public async Task GetRun_ManyAtOnce_AllAnswerTheSameRun()
    {
        var (server, run) = await CreateRunAsync();

        var reads = await Task.WhenAll(Enumerable.Range(0, 64).Select(i => Task.Run(() => server.Runs.GetRunAsync(run.Id, i % 2 == 0 ? null : run.UserId, Ct), Ct)));

        Assert.All(reads, r => Assert.Equal(run, r));
        Assert.Null(await server.Runs.GetRunAsync(run.Id, Guid.NewGuid().ToString(), Ct));
        Assert.Null(await server.Runs.GetRunAsync(Guid.NewGuid().ToString(), null, Ct));
    }

    [Fact]
    public async Task GetRun_KeptConnectionsIdle_CheckpointResetsTheWal()
    {
        var (server, run) = await CreateRunAsync();
        await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => server.Runs.GetRunAsync(run.Id, null, Ct), Ct)));
        await server.Runs.TransitionAsync(new RunTransition { RunId = run.Id, From = [RunStatuses.Pending], To = RunStatuses.Streaming, At = s_start.AddSeconds(1) }, Ct);
        Assert.Equal(RunStatuses.Streaming, (await server.Runs.GetRunAsync(run.Id, null, Ct))!.Status);

        using var connection = SqliteTempFolder.Open(server.DatabasePath);
        using (var noWait = connection.CreateCommand())
        {
            noWait.CommandText = "PRAGMA busy_timeout = 0";
            noWait.ExecuteNonQuery();
        }

        using var checkpoint = connection.CreateCommand();
        checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
        using var result = checkpoint.ExecuteReader();
        Assert.True(result.Read());

        // busy = 0: no connection of the store held a read transaction the checkpoint had to wait
        // for; log = 0: the WAL was reset to empty.
        Assert.Equal((0L, 0L), (result.GetInt64(0), result.GetInt64(1)));
    }

    private async Task<(SqliteMogplexStore Store, RunRecord Run)> CreateRunAsync()
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
            WorkingBranch = "mogplex/fix",
            CreateBranch = true,
            RootDirectory = ".",
            Prompt = "Fix the build",
            CreatedAt = s_start,
            UpdatedAt = s_start,
        };
        var result = await store.Runs.CreateRunAsync(new CreateRunCommand(run, "key", "hash", "bucket", [], []), Ct);
        return (store, Assert.IsType<CreateRunResult.Created>(result).Run);
    }
}
