using Microsoft.Extensions.Time.Testing;
using Mogplex.Contracts.Runs;

namespace Mogplex.Storage.Tests.Conformance;

/// <summary>
/// The storage contract every provider must meet, tested only through <see cref="IMogplexStore"/>
/// and its stores (no SQL here). A provider subclasses this class and supplies a fresh, migrated,
/// isolated database per call of <see cref="CreateStoreAsync"/>. The areas live in partial files.
/// </summary>
public abstract partial class StoreConformanceTests : IDisposable
{
    /// <summary>A fixed start so that stored times are exact and readable.</summary>
    protected static readonly DateTimeOffset Start = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);

    private readonly CancellationTokenSource _timeout;

    protected StoreConformanceTests()
    {
        // Every await of a test is bounded: the store calls take this token and waits use WaitAsync.
        _timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        _timeout.CancelAfter(TimeSpan.FromSeconds(30));
    }

    /// <summary>The test clock: its own per test, advanced explicitly.</summary>
    protected FakeTimeProvider Time { get; } = new(Start);

    protected DateTimeOffset Now => Time.GetUtcNow();

    protected CancellationToken Ct => _timeout.Token;

    /// <summary>A new store on a fresh, migrated database that no other test sees.</summary>
    protected abstract Task<IMogplexStore> CreateStoreAsync();

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            _timeout.Dispose();
        }
    }

    /// <summary>Waits for <paramref name="task"/> within the test's deadline.</summary>
    protected Task WaitAsync(Task task) => task.WaitAsync(Ct);

    /// <summary>A store with one user and one repo of that user.</summary>
    protected async Task<(IMogplexStore Store, UserRecord User, RepoRecord Repo)> ArrangeAsync()
    {
        var store = await CreateStoreAsync();
        var user = await store.Users.AddUserAsync("alice", Now, Ct);
        var repo = await AddRepoAsync(store, user.Id, "acme/widget");
        return (store, user, repo);
    }

    protected Task<RepoRecord> AddRepoAsync(IMogplexStore store, string userId, string fullName, string source = "local:/srv/repos") =>
        store.Repos.AddRepoAsync(
            new NewRepo(NewId(), userId, fullName, "main", ".", source, null, Now),
            Ct);

    protected static string NewId() => Guid.NewGuid().ToString();

    /// <summary>A pending run on a working branch of its own unless <paramref name="branch"/> names one (runs for one branch are claimed one at a time).</summary>
    protected static RunRecord NewRun(string userId, string repoId, DateTimeOffset createdAt, string? id = null, string? branch = null) => new()
    {
        Id = id ?? NewId(),
        UserId = userId,
        RepoId = repoId,
        AiCallId = NewId(),
        Harness = "codex",
        Status = RunStatuses.Pending,
        BaseBranch = "main",
        WorkingBranch = branch ?? "mogplex/fix-" + Guid.NewGuid().ToString("N")[..12],
        CreateBranch = true,
        RootDirectory = ".",
        Prompt = "Fix the build",
        CreatedAt = createdAt,
        UpdatedAt = createdAt,
    };

    protected static CreateRunCommand CreateCommand(
        RunRecord run,
        string key,
        string requestHash = "hash-1",
        IReadOnlyList<RateWindow>? startLimits = null,
        IReadOnlyList<NewRunEvent>? initialEvents = null) =>
        new(run, key, requestHash, "runs:" + run.UserId, startLimits ?? [], initialEvents ?? []);

    /// <summary>Creates a pending run (at <see cref="Now"/> unless told) and returns it as stored.</summary>
    protected async Task<RunRecord> CreateRunAsync(IMogplexStore store, string userId, string repoId, DateTimeOffset? createdAt = null, params NewRunEvent[] initialEvents)
    {
        var result = await store.Runs.CreateRunAsync(
            CreateCommand(NewRun(userId, repoId, createdAt ?? Now), NewId(), initialEvents: initialEvents),
            Ct);
        return Assert.IsType<CreateRunResult.Created>(result).Run;
    }

    /// <summary>Creates a pending run on <paramref name="branch"/> (at <see cref="Now"/>).</summary>
    protected async Task<RunRecord> CreateRunOnBranchAsync(IMogplexStore store, string userId, string repoId, string branch)
    {
        var result = await store.Runs.CreateRunAsync(CreateCommand(NewRun(userId, repoId, Now, branch: branch), NewId()), Ct);
        return Assert.IsType<CreateRunResult.Created>(result).Run;
    }

    protected Task<RunRecord?> TransitionAsync(IMogplexStore store, string runId, string from, string to, params NewRunEvent[] events) =>
        store.Runs.TransitionAsync(
            new RunTransition { RunId = runId, From = [from], To = to, At = Now, Events = events },
            Ct);

    protected static NewRunEvent Event(string message) => new("message", null, message, null);

    protected static NewRunEvent[] Events(string prefix, int count) =>
        [.. Enumerable.Range(1, count).Select(i => Event($"{prefix}{i}"))];
}
