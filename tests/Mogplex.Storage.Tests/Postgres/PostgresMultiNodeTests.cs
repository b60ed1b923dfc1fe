using Mogplex.Contracts.Runs;
using Mogplex.Storage.Postgres;
using Mogplex.Testing.Postgres;
using Npgsql;

namespace Mogplex.Storage.Tests.Postgres;

/// <summary>
/// PostgreSQL only: several store instances on one database stand for several <c>mogplexd</c>
/// nodes (each has its own connection pool and change listener). What one node decides must hold
/// for all of them: claims, idempotency, limits, event numbering and wake-ups.
/// </summary>
public sealed class PostgresMultiNodeTests : IDisposable
{
    private static readonly DateTimeOffset s_start = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan s_lease = TimeSpan.FromSeconds(30);

    private readonly PostgresTestSchemas _schemas;
    private readonly CancellationTokenSource _timeout;

    public PostgresMultiNodeTests(PostgresTestCluster cluster)
    {
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

    [Fact]
    public async Task ClaimNext_EightClaimersOnTwoNodes_EachOfFortyRunsClaimedExactlyOnce()
    {
        var (nodeA, nodeB, user, repo) = await ArrangeTwoNodesAsync();
        var ids = new List<string>();
        for (var i = 0; i < 40; i++)
        {
            ids.Add((await CreateRunAsync(nodeA, user, repo, s_start.AddMilliseconds(i))).Id);
        }

        // Each claimer claims until the queue is empty; four claimers per node.
        var claimers = Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            var node = i % 2 == 0 ? nodeA : nodeB;
            var owner = $"node-{(i % 2 == 0 ? "a" : "b")}-{i}";
            var mine = new List<RunRecord>();
            while (await node.Queue.ClaimNextAsync(new(owner, $"exec-{i}-{mine.Count}", s_start, s_lease), Ct) is { } run)
            {
                mine.Add(run);
            }

            return (Owner: owner, Runs: mine);
        }, Ct));
        var results = await Task.WhenAll(claimers);

        var claimed = results.SelectMany(r => r.Runs.Select(run => run.Id)).ToList();
        Assert.Equal(40, claimed.Count);
        Assert.Equal(ids.Order(StringComparer.Ordinal), claimed.Order(StringComparer.Ordinal));
        foreach (var (owner, runs) in results)
        {
            // The stored lease names the claimer that got the run: nobody overwrote a claim.
            Assert.Equal(runs.Select(r => r.Id).Order(StringComparer.Ordinal), (await nodeB.Queue.ListHeldByAsync(owner, Ct)).Select(r => r.Id).Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public async Task ClaimNext_EightClaimersOnTwoNodes_RunsOfOneBranchClaimedOneAtATime()
    {
        var (nodeA, nodeB, user, repo) = await ArrangeTwoNodesAsync();
        var ids = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            ids.Add((await CreateRunAsync(nodeA, user, repo, s_start.AddMilliseconds(i), "shared")).Id);
        }

        // Each round, eight claimers on two nodes race; exactly the oldest waiting run is claimed,
        // and nothing more until it ends.
        for (var round = 0; round < ids.Count; round++)
        {
            var claims = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
                (i % 2 == 0 ? nodeA : nodeB).Queue.ClaimNextAsync(new($"node-{i}", $"exec-{round}-{i}", s_start, s_lease), Ct)));
            var claimed = Assert.Single(claims, c => c is not null)!;
            Assert.Equal(ids[round], claimed.Id);
            Assert.NotNull(await nodeB.Runs.TransitionAsync(
                new RunTransition { RunId = claimed.Id, From = [RunStatuses.Pending], To = RunStatuses.Success, At = s_start, ExpectedLeaseOwner = claimed.LeaseOwner },
                Ct));
        }
    }

    [Fact]
    public async Task ClaimNext_EightClaimersOnTwoNodes_NeverExceedTheUserLimit()
    {
        var (nodeA, nodeB, alice, aliceRepo) = await ArrangeTwoNodesAsync();
        var users = new List<(UserRecord User, RepoRecord Repo)> { (alice, aliceRepo) };
        foreach (var name in new[] { "bob", "carol" })
        {
            var user = await nodeB.Users.AddUserAsync(name, s_start, Ct);
            users.Add((user, await AddRepoAsync(nodeA, user)));
        }

        var queued = users.ToDictionary(u => u.User.Id, _ => new List<string>());
        for (var i = 0; i < 6; i++)
        {
            foreach (var (user, repo) in users)
            {
                queued[user.Id].Add((await CreateRunAsync(i % 2 == 0 ? nodeA : nodeB, user, repo, s_start.AddMilliseconds(i))).Id);
            }
        }

        // Each claimer claims until nothing is claimable; four claimers per node, limit 3 per user.
        var claimed = await ClaimAllAsync(nodeA, nodeB, round: 0);
        foreach (var (user, _) in users)
        {
            Assert.Equal(queued[user.Id][..3].Order(StringComparer.Ordinal), claimed.Where(r => r.UserId == user.Id).Select(r => r.Id).Order(StringComparer.Ordinal));
        }

        // One run of each user ends: exactly one more run of each is claimed, the oldest waiting.
        foreach (var run in claimed.Where(r => queued[r.UserId][0] == r.Id))
        {
            Assert.NotNull(await nodeA.Runs.TransitionAsync(
                new RunTransition { RunId = run.Id, From = [RunStatuses.Pending], To = RunStatuses.Success, At = s_start, ExpectedLeaseOwner = run.LeaseOwner },
                Ct));
        }

        var next = await ClaimAllAsync(nodeA, nodeB, round: 1);
        Assert.Equal(users.Select(u => queued[u.User.Id][3]).Order(StringComparer.Ordinal), next.Select(r => r.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task CreateRun_FortyConcurrentCallsOneKeyOnTwoNodes_OneRunOthersReplayIt()
    {
        var (nodeA, nodeB, user, repo) = await ArrangeTwoNodesAsync();

        var results = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(
            () => (i % 2 == 0 ? nodeA : nodeB).Runs.CreateRunAsync(Command(NewRun(user, repo, s_start), "race-key"), Ct),
            Ct)));

        var created = Assert.Single(results.OfType<CreateRunResult.Created>()).Run;
        var replayed = results.OfType<CreateRunResult.Replayed>().ToList();
        Assert.Equal(39, replayed.Count);
        Assert.All(replayed, r => Assert.Equal(created, r.Run));
        Assert.Equal([created.Id], (await nodeB.Runs.ListRunsAsync(new RunQuery(null, null, null, 100, null), Ct)).Select(r => r.Id));
        Assert.Equal(["accepted"], (await nodeA.Events.ListAsync(created.Id, 0, 100, Ct)).Select(e => e.Message));
    }

    [Fact]
    public async Task CreateRun_StartLimitOnTwoNodes_ExactlyTheLimitCreated()
    {
        var (nodeA, nodeB, user, repo) = await ArrangeTwoNodesAsync();
        RateWindow[] limits = [new("minute", 7, TimeSpan.FromMinutes(1)), new("hour", 30, TimeSpan.FromHours(1))];

        var results = await Task.WhenAll(Enumerable.Range(0, 30).Select(i => Task.Run(
            () => (i % 2 == 0 ? nodeA : nodeB).Runs.CreateRunAsync(Command(NewRun(user, repo, s_start), $"key-{i}", limits), Ct),
            Ct)));

        Assert.Equal(7, results.Count(r => r is CreateRunResult.Created));
        var limited = results.OfType<CreateRunResult.RateLimited>().ToList();
        Assert.Equal(23, limited.Count);
        Assert.All(limited, r => Assert.Equal("minute", r.Decision.Window.Name));
        Assert.All(limited, r => Assert.Equal(TimeSpan.FromSeconds(60), r.Decision.RetryAfter));
        Assert.Equal(7, (await nodeA.Runs.ListRunsAsync(new RunQuery(null, null, null, 100, null), Ct)).Count);
    }

    [Fact]
    public async Task TryAcquire_ConcurrentHitsOnTwoNodes_ExactlyTheLimitAllowed()
    {
        var (nodeA, nodeB, _, _) = await ArrangeTwoNodesAsync();
        var window = new RateWindow("request", 12, TimeSpan.FromSeconds(60));

        var decisions = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(
            () => (i % 2 == 0 ? nodeA : nodeB).RateLimits.TryAcquireAsync("req:token-1", [window], s_start.AddMilliseconds(i), Ct),
            Ct)));

        Assert.Equal(12, decisions.Count(d => d.Allowed));
        Assert.Equal(Enumerable.Range(0, 12).Reverse(), decisions.Where(d => d.Allowed).Select(d => d.Remaining).OrderDescending());

        // Both nodes see the same full window afterwards.
        Assert.False((await nodeA.RateLimits.TryAcquireAsync("req:token-1", [window], s_start.AddSeconds(1), Ct)).Allowed);
        Assert.False((await nodeB.RateLimits.TryAcquireAsync("req:token-1", [window], s_start.AddSeconds(1), Ct)).Allowed);
    }

    [Fact]
    public async Task AppendEvents_FourWritersOnEachOfTwoNodes_GaplessStrictSeqAndWriterOrderKept()
    {
        var (nodeA, nodeB, user, repo) = await ArrangeTwoNodesAsync();
        var run = await CreateRunAsync(nodeA, user, repo, s_start);

        await Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            var node = w % 2 == 0 ? nodeA : nodeB;
            for (var i = 0; i < 40; i++)
            {
                await node.Events.AppendAsync(run.Id, [Event($"w{w}-{i}a"), Event($"w{w}-{i}b")], s_start, Ct);
            }
        }, Ct)));

        var stored = await nodeB.Events.ListAsync(run.Id, 1, 1000, Ct);
        Assert.Equal(Enumerable.Range(2, 640).Select(i => (long)i), stored.Select(e => e.Seq));
        for (var w = 0; w < 8; w++)
        {
            var prefix = $"w{w}-";
            Assert.Equal(
                Enumerable.Range(0, 40).SelectMany(i => new[] { $"{prefix}{i}a", $"{prefix}{i}b" }),
                stored.Where(e => e.Message!.StartsWith(prefix, StringComparison.Ordinal)).Select(e => e.Message));
        }

        // Each batch of two stayed contiguous.
        for (var i = 0; i < stored.Count; i += 2)
        {
            Assert.Equal(stored[i].Message![..^1] + "b", stored[i + 1].Message);
        }
    }

    [Fact]
    public async Task Changes_AppendAndTransitionThroughOtherNode_WakeFollowerOnThisNode()
    {
        var connectionString = await _schemas.NewSchemaAsync(Ct);
        var nodeB = await MigratedStoreAsync(connectionString);
        var user = await nodeB.Users.AddUserAsync("alice", s_start, Ct);
        var repo = await AddRepoAsync(nodeB, user);
        var run = await CreateRunAsync(nodeB, user, repo, s_start);
        var quiet = await CreateRunAsync(nodeB, user, repo, s_start);

        // Node A starts listening after those writes, so nothing earlier can reach its followers.
        var nodeA = _schemas.NewStore(connectionString);
        await nodeA.StartListeningAsync(Ct);
        var appended = nodeA.Changes.NextChangeAsync(run.Id);
        var quietWait = nodeA.Changes.NextChangeAsync(quiet.Id);
        Assert.False(appended.IsCompleted);

        await nodeB.Events.AppendAsync(run.Id, [Event("from node b")], s_start, Ct);
        await appended.WaitAsync(Ct);

        var transitioned = nodeA.Changes.NextChangeAsync(run.Id);
        await nodeB.Runs.TransitionAsync(new RunTransition { RunId = run.Id, From = [RunStatuses.Pending], To = RunStatuses.Streaming, At = s_start }, Ct);
        await transitioned.WaitAsync(Ct);

        Assert.False(quietWait.IsCompleted);
    }

    [Fact]
    public async Task Changes_ListenerConnectionKilled_FollowerWokenAndWakeUpsResume()
    {
        var connectionString = await _schemas.NewSchemaAsync(Ct);
        var nodeB = await MigratedStoreAsync(connectionString);
        var user = await nodeB.Users.AddUserAsync("alice", s_start, Ct);
        var repo = await AddRepoAsync(nodeB, user);
        var run = await CreateRunAsync(nodeB, user, repo, s_start);
        var applicationName = "mogplex-tests-" + Guid.NewGuid().ToString("N")[..8];
        var nodeA = _schemas.NewStore(connectionString, applicationName);
        await nodeA.StartListeningAsync(Ct);
        var follower = nodeA.Changes.NextChangeAsync(run.Id);

        await using (var admin = PostgresTestSchemas.Open(connectionString))
        {
            await using var kill = new NpgsqlCommand("SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = @name) AS killed", admin);
            kill.Parameters.AddWithValue("name", applicationName + "-listener");
            Assert.Equal(1L, await kill.ExecuteScalarAsync(Ct));
        }

        // A change committed while the listener was gone is never delivered: the listener wakes
        // every follower once it listens again, so they re-read.
        await follower.WaitAsync(Ct);

        var next = nodeA.Changes.NextChangeAsync(run.Id);
        await nodeB.Events.AppendAsync(run.Id, [Event("after reconnect")], s_start, Ct);
        await next.WaitAsync(Ct);
    }

    /// <summary>Eight claimers, four per node, each claiming (limit 3 per user) until nothing is claimable.</summary>
    private async Task<List<RunRecord>> ClaimAllAsync(PostgresMogplexStore nodeA, PostgresMogplexStore nodeB, int round)
    {
        var claimers = Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            var node = i % 2 == 0 ? nodeA : nodeB;
            var mine = new List<RunRecord>();
            while (await node.Queue.ClaimNextAsync(new($"node-{i}", $"exec-{round}-{i}-{mine.Count}", s_start, s_lease, 3), Ct) is { } run)
            {
                mine.Add(run);
            }

            return mine;
        }, Ct));
        return [.. (await Task.WhenAll(claimers)).SelectMany(r => r)];
    }

    private async Task<(PostgresMogplexStore NodeA, PostgresMogplexStore NodeB, UserRecord User, RepoRecord Repo)> ArrangeTwoNodesAsync()
    {
        var connectionString = await _schemas.NewSchemaAsync(Ct);
        var nodeA = _schemas.NewStore(connectionString);
        var nodeB = _schemas.NewStore(connectionString);
        await Task.WhenAll(nodeA.MigrateAsync(Ct), nodeB.MigrateAsync(Ct));
        var user = await nodeA.Users.AddUserAsync("alice", s_start, Ct);
        return (nodeA, nodeB, user, await AddRepoAsync(nodeB, user));
    }

    private async Task<PostgresMogplexStore> MigratedStoreAsync(string connectionString)
    {
        var store = _schemas.NewStore(connectionString);
        await store.MigrateAsync(Ct);
        return store;
    }

    private Task<RepoRecord> AddRepoAsync(PostgresMogplexStore store, UserRecord user) =>
        store.Repos.AddRepoAsync(new NewRepo(Guid.NewGuid().ToString(), user.Id, "acme/widget", "main", ".", "local:/srv", null, s_start), Ct);

    private async Task<RunRecord> CreateRunAsync(PostgresMogplexStore store, UserRecord user, RepoRecord repo, DateTimeOffset at, string? branch = null) =>
        Assert.IsType<CreateRunResult.Created>(await store.Runs.CreateRunAsync(Command(NewRun(user, repo, at, branch), Guid.NewGuid().ToString()), Ct)).Run;

    private static CreateRunCommand Command(RunRecord run, string key, IReadOnlyList<RateWindow>? limits = null) =>
        new(run, key, "hash-1", "start:" + run.UserId, limits ?? [], [Event("accepted")]);

    /// <summary>A run on a working branch of its own unless <paramref name="branch"/> names one.</summary>
    private static RunRecord NewRun(UserRecord user, RepoRecord repo, DateTimeOffset at, string? branch = null) => new()
    {
        Id = Guid.NewGuid().ToString(),
        UserId = user.Id,
        RepoId = repo.Id,
        AiCallId = Guid.NewGuid().ToString(),
        Harness = "codex",
        Status = RunStatuses.Pending,
        BaseBranch = "main",
        WorkingBranch = branch ?? "mogplex/fix-" + Guid.NewGuid().ToString("N")[..12],
        CreateBranch = true,
        RootDirectory = ".",
        Prompt = "Fix the build",
        CreatedAt = at,
        UpdatedAt = at,
    };

    private static NewRunEvent Event(string message) => new("message", null, message, null);
}
