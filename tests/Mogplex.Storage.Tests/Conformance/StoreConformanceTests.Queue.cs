using Mogplex.Contracts.Runs;

namespace Mogplex.Storage.Tests.Conformance;

public abstract partial class StoreConformanceTests
{
    private static readonly TimeSpan s_lease = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ClaimNext_OldestPendingFirst_SetsLeaseAndExecutionId()
    {
        var (store, user, repo) = await ArrangeAsync();
        var older = await CreateRunAsync(store, user.Id, repo.Id, Now);
        Time.Advance(TimeSpan.FromSeconds(1));
        var newer = await CreateRunAsync(store, user.Id, repo.Id, Now);

        var first = await store.Queue.ClaimNextAsync(new("node-a", "exec-1", Now, s_lease), Ct);
        var second = await store.Queue.ClaimNextAsync(new("node-a", "exec-2", Now, s_lease), Ct);
        var none = await store.Queue.ClaimNextAsync(new("node-a", "exec-3", Now, s_lease), Ct);

        Assert.Equal(older.Id, first!.Id);
        Assert.Equal(newer.Id, second!.Id);
        Assert.Null(none);
        Assert.Equal("node-a", first.LeaseOwner);
        Assert.Equal(Now + s_lease, first.LeaseExpiresAt);
        Assert.Equal("exec-1", first.RuntimeRunId);
        Assert.Equal(RunStatuses.Pending, first.Status);
    }

    [Fact]
    public async Task ClaimNext_Concurrent_EachRunClaimedExactlyOnce()
    {
        var (store, user, repo) = await ArrangeAsync();
        var ids = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            ids.Add((await CreateRunAsync(store, user.Id, repo.Id, Now)).Id);
        }

        var claims = await Task.WhenAll(Enumerable.Range(0, 30).Select(i => store.Queue.ClaimNextAsync(new($"node-{i % 3}", $"e{i}", Now, s_lease), Ct)));

        var claimed = claims.Where(c => c is not null).Select(c => c!.Id).ToList();
        Assert.Equal(20, claimed.Count);
        Assert.Equal(ids.Order(), claimed.Order());
    }

    [Fact]
    public async Task ClaimNext_BranchHeldByAClaimedRun_LaterRunsOfItWaitAndOthersGoFirst()
    {
        var (store, user, repo) = await ArrangeAsync();
        var other = await AddRepoAsync(store, user.Id, "acme/other", "local:/srv/other");
        var first = await CreateRunOnBranchAsync(store, user.Id, repo.Id, "feature/x");
        Time.Advance(TimeSpan.FromSeconds(1));
        var second = await CreateRunOnBranchAsync(store, user.Id, repo.Id, "feature/x");
        Time.Advance(TimeSpan.FromSeconds(1));
        var elsewhere = await CreateRunOnBranchAsync(store, user.Id, repo.Id, "feature/y");
        Time.Advance(TimeSpan.FromSeconds(1));
        var sameNameOtherRepo = await CreateRunOnBranchAsync(store, user.Id, other.Id, "feature/x");

        Assert.Equal(first.Id, (await store.Queue.ClaimNextAsync(new("node-a", "e1", Now, s_lease), Ct))!.Id);
        Assert.Equal(elsewhere.Id, (await store.Queue.ClaimNextAsync(new("node-b", "e2", Now, s_lease), Ct))!.Id);
        Assert.Equal(sameNameOtherRepo.Id, (await store.Queue.ClaimNextAsync(new("node-b", "e3", Now, s_lease), Ct))!.Id);
        Assert.Null(await store.Queue.ClaimNextAsync(new("node-b", "e4", Now, s_lease), Ct));

        // Streaming still holds the branch; a final status frees it.
        await TransitionAsync(store, first.Id, RunStatuses.Pending, RunStatuses.Streaming);
        Assert.Null(await store.Queue.ClaimNextAsync(new("node-b", "e5", Now, s_lease), Ct));
        await TransitionAsync(store, first.Id, RunStatuses.Streaming, RunStatuses.Success);
        Assert.Equal(second.Id, (await store.Queue.ClaimNextAsync(new("node-b", "e6", Now, s_lease), Ct))!.Id);
    }

    [Fact]
    public async Task ClaimNext_TwoRepoRecordsOfOneSource_ShareTheirBranches()
    {
        // Two users link the same source: their runs on one branch push to the same place.
        var (store, user, repo) = await ArrangeAsync();
        var other = await store.Users.EnsureUserAsync("bob", Now, Ct);
        var sameSource = await AddRepoAsync(store, other.Id, "acme/widget", repo.Source);
        var elsewhere = await AddRepoAsync(store, other.Id, "acme/gadget", repo.Source + "-other");
        var first = await CreateRunOnBranchAsync(store, user.Id, repo.Id, "main");
        Time.Advance(TimeSpan.FromSeconds(1));
        var second = await CreateRunOnBranchAsync(store, other.Id, sameSource.Id, "main");
        Time.Advance(TimeSpan.FromSeconds(1));
        var third = await CreateRunOnBranchAsync(store, other.Id, elsewhere.Id, "main");

        Assert.Equal(first.Id, (await store.Queue.ClaimNextAsync(new("node-a", "e1", Now, s_lease), Ct))!.Id);
        Assert.Equal(third.Id, (await store.Queue.ClaimNextAsync(new("node-a", "e2", Now, s_lease), Ct))!.Id);
        Assert.Null(await store.Queue.ClaimNextAsync(new("node-a", "e3", Now, s_lease), Ct));
        await TransitionAsync(store, first.Id, RunStatuses.Pending, RunStatuses.Failed);
        Assert.Equal(second.Id, (await store.Queue.ClaimNextAsync(new("node-a", "e4", Now, s_lease), Ct))!.Id);
    }

    [Fact]
    public async Task ClaimNext_ConcurrentClaimersOneBranch_OneRunAtATime()
    {
        var (store, user, repo) = await ArrangeAsync();
        var ids = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            ids.Add((await CreateRunOnBranchAsync(store, user.Id, repo.Id, "shared")).Id);
            Time.Advance(TimeSpan.FromMilliseconds(1));
        }

        var claims = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => store.Queue.ClaimNextAsync(new($"node-{i % 3}", $"e{i}", Now, s_lease), Ct)));

        var claimed = Assert.Single(claims, c => c is not null);
        Assert.Equal(ids[0], claimed!.Id);
    }

    [Fact]
    public async Task ClaimNext_UnclaimedPendingRunOfTheBranch_DoesNotHoldIt()
    {
        // Only a claimed run holds its branch: pending runs nobody claimed yet (and cancel
        // requests waiting on them) do not stop the oldest of them from being claimed.
        var (store, user, repo) = await ArrangeAsync();
        var cancelling = await CreateRunOnBranchAsync(store, user.Id, repo.Id, "shared");
        await store.Runs.RequestCancelAsync(cancelling.Id, null, Event("cancel"), Now, Ct);
        Time.Advance(TimeSpan.FromSeconds(1));
        var next = await CreateRunOnBranchAsync(store, user.Id, repo.Id, "shared");

        Assert.Equal(next.Id, (await store.Queue.ClaimNextAsync(new("node-a", "e", Now, s_lease), Ct))!.Id);
    }

    [Fact]
    public async Task ClaimNext_UserAtTheLimit_TheirLaterRunsWaitAndOtherUsersGoFirst()
    {
        var (store, alice, aliceRepo) = await ArrangeAsync();
        var bob = await store.Users.AddUserAsync("bob", Now, Ct);
        var bobRepo = await AddRepoAsync(store, bob.Id, "acme/gadget", "local:/srv/gadget");
        var aliceRuns = new List<RunRecord>();
        for (var i = 0; i < 4; i++)
        {
            aliceRuns.Add(await CreateRunAsync(store, alice.Id, aliceRepo.Id, Now));
            Time.Advance(TimeSpan.FromSeconds(1));
        }

        var bobRun = await CreateRunAsync(store, bob.Id, bobRepo.Id, Now);

        Assert.Equal(aliceRuns[0].Id, (await store.Queue.ClaimNextAsync(new("node-a", "e1", Now, s_lease, 2), Ct))!.Id);
        Assert.Equal(aliceRuns[1].Id, (await store.Queue.ClaimNextAsync(new("node-b", "e2", Now, s_lease, 2), Ct))!.Id);
        Assert.Equal(bobRun.Id, (await store.Queue.ClaimNextAsync(new("node-a", "e3", Now, s_lease, 2), Ct))!.Id);
        Assert.Null(await store.Queue.ClaimNextAsync(new("node-a", "e4", Now, s_lease, 2), Ct));

        // Streaming still counts; a final status frees a place, and the oldest waiting run takes it.
        await TransitionAsync(store, aliceRuns[0].Id, RunStatuses.Pending, RunStatuses.Streaming);
        Assert.Null(await store.Queue.ClaimNextAsync(new("node-a", "e5", Now, s_lease, 2), Ct));
        await TransitionAsync(store, aliceRuns[0].Id, RunStatuses.Streaming, RunStatuses.Success);
        Assert.Equal(aliceRuns[2].Id, (await store.Queue.ClaimNextAsync(new("node-b", "e6", Now, s_lease, 2), Ct))!.Id);
        Assert.Null(await store.Queue.ClaimNextAsync(new("node-b", "e7", Now, s_lease, 2), Ct));

        // The limit is the claimer's: a higher one (or none) lets the last run through.
        Assert.Equal(aliceRuns[3].Id, (await store.Queue.ClaimNextAsync(new("node-b", "e8", Now, s_lease, 3), Ct))!.Id);
    }

    [Fact]
    public async Task ClaimNext_UnclaimedRunsOfTheUser_DoNotCount()
    {
        // Only claimed active runs count: queued runs, a cancel request waiting on one of them,
        // and finished runs leave the user's places free.
        var (store, user, repo) = await ArrangeAsync();
        var cancelling = await CreateRunAsync(store, user.Id, repo.Id, Now);
        await store.Runs.RequestCancelAsync(cancelling.Id, null, Event("cancel"), Now, Ct);
        var done = await CreateRunAsync(store, user.Id, repo.Id, Now);
        await TransitionAsync(store, done.Id, RunStatuses.Pending, RunStatuses.Failed);
        Time.Advance(TimeSpan.FromSeconds(1));
        var next = await CreateRunAsync(store, user.Id, repo.Id, Now);
        Time.Advance(TimeSpan.FromSeconds(1));
        await CreateRunAsync(store, user.Id, repo.Id, Now);

        Assert.Equal(next.Id, (await store.Queue.ClaimNextAsync(new("node-a", "e1", Now, s_lease, 1), Ct))!.Id);
        Assert.Null(await store.Queue.ClaimNextAsync(new("node-a", "e2", Now, s_lease, 1), Ct));
    }

    [Fact]
    public async Task ClaimNext_ConcurrentClaimers_NeverExceedTheUserLimit()
    {
        var (store, alice, aliceRepo) = await ArrangeAsync();
        var bob = await store.Users.AddUserAsync("bob", Now, Ct);
        var bobRepo = await AddRepoAsync(store, bob.Id, "acme/gadget", "local:/srv/gadget");
        var aliceRuns = new List<string>();
        var bobRuns = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            aliceRuns.Add((await CreateRunAsync(store, alice.Id, aliceRepo.Id, Now)).Id);
            bobRuns.Add((await CreateRunAsync(store, bob.Id, bobRepo.Id, Now)).Id);
            Time.Advance(TimeSpan.FromMilliseconds(1));
        }

        var claims = await Task.WhenAll(Enumerable.Range(0, 30).Select(i => Task.Run(
            () => store.Queue.ClaimNextAsync(new($"node-{i % 3}", $"e{i}", Now, s_lease, 3), Ct),
            Ct)));

        var claimed = claims.Where(c => c is not null).Select(c => c!).ToList();
        Assert.Equal(aliceRuns[..3].Order(), claimed.Where(c => c.UserId == alice.Id).Select(c => c.Id).Order());
        Assert.Equal(bobRuns[..3].Order(), claimed.Where(c => c.UserId == bob.Id).Select(c => c.Id).Order());
    }

    [Fact]
    public async Task ClaimNext_SkipsCancelRequestedAndTerminalRuns()
    {
        var (store, user, repo) = await ArrangeAsync();
        var cancelling = await CreateRunAsync(store, user.Id, repo.Id, Now);
        await store.Runs.RequestCancelAsync(cancelling.Id, null, Event("cancel"), Now, Ct);
        var done = await CreateRunAsync(store, user.Id, repo.Id, Now);
        await TransitionAsync(store, done.Id, RunStatuses.Pending, RunStatuses.Cancelled);

        Assert.Null(await store.Queue.ClaimNextAsync(new("node-a", "e", Now, s_lease), Ct));
    }

    [Fact]
    public async Task Heartbeat_OnlyByOwnerWhileActive()
    {
        var (store, user, repo) = await ArrangeAsync();
        await CreateRunAsync(store, user.Id, repo.Id, Now);
        var run = (await store.Queue.ClaimNextAsync(new("node-a", "e", Now, s_lease), Ct))!;
        Time.Advance(TimeSpan.FromSeconds(10));

        Assert.True(await store.Queue.HeartbeatAsync(run.Id, "node-a", Now, s_lease, Ct));
        Assert.False(await store.Queue.HeartbeatAsync(run.Id, "node-b", Now, s_lease, Ct));
        Assert.Equal(Now + s_lease, (await store.Runs.GetRunAsync(run.Id, null, Ct))!.LeaseExpiresAt);

        await store.Runs.TransitionAsync(new RunTransition { RunId = run.Id, From = [RunStatuses.Pending], To = RunStatuses.Failed, At = Now, ExpectedLeaseOwner = "node-a" }, Ct);
        Assert.False(await store.Queue.HeartbeatAsync(run.Id, "node-a", Now, s_lease, Ct));
    }

    [Fact]
    public async Task ListExpired_OnlyActiveRunsPastTheirLease()
    {
        var (store, user, repo) = await ArrangeAsync();
        await CreateRunAsync(store, user.Id, repo.Id, Now);
        await CreateRunAsync(store, user.Id, repo.Id, Now);
        await CreateRunAsync(store, user.Id, repo.Id, Now);
        var stale = (await store.Queue.ClaimNextAsync(new("node-a", "e1", Now, s_lease), Ct))!;
        Time.Advance(TimeSpan.FromSeconds(20));
        var fresh = (await store.Queue.ClaimNextAsync(new("node-b", "e2", Now, s_lease), Ct))!;
        Time.Advance(TimeSpan.FromSeconds(15));

        var expired = await store.Queue.ListExpiredAsync(Now, Ct);

        Assert.Equal([stale.Id], expired.Select(r => r.Id));
        Assert.Equal([fresh.Id], (await store.Queue.ListHeldByAsync("node-b", Ct)).Select(r => r.Id));
        Assert.Equal(2, (await store.Queue.ListExpiredAsync(DateTimeOffset.MaxValue, Ct)).Count);
    }

    [Fact]
    public async Task LeaseFencedTransition_OtherOwnerLoses()
    {
        var (store, user, repo) = await ArrangeAsync();
        await CreateRunAsync(store, user.Id, repo.Id, Now);
        var run = (await store.Queue.ClaimNextAsync(new("node-a", "e", Now, s_lease), Ct))!;

        var stolen = await store.Runs.TransitionAsync(new RunTransition { RunId = run.Id, From = [RunStatuses.Pending], To = RunStatuses.Streaming, At = Now, ExpectedLeaseOwner = "node-b" }, Ct);
        var mine = await store.Runs.TransitionAsync(new RunTransition { RunId = run.Id, From = [RunStatuses.Pending], To = RunStatuses.Streaming, At = Now, ExpectedLeaseOwner = "node-a" }, Ct);

        Assert.Null(stolen);
        Assert.Equal(RunStatuses.Streaming, mine!.Status);
        Assert.Equal(Now, mine.StartedAt);
    }

    [Fact]
    public async Task AddUsage_SumsPartsAndKeepsUnknownsNull()
    {
        var (store, user, repo) = await ArrangeAsync();
        var run = await CreateRunAsync(store, user.Id, repo.Id, Now);

        await store.Queue.AddUsageAsync(run.Id, new UsageDelta(100, null, 10, 0.5m), Ct);
        await store.Queue.AddUsageAsync(run.Id, new UsageDelta(50, 20, null, 0.25m), Ct);

        var stored = (await store.Runs.GetRunAsync(run.Id, null, Ct))!;
        Assert.Equal(150, stored.InputTokens);
        Assert.Equal(20, stored.CachedInputTokens);
        Assert.Equal(10, stored.OutputTokens);
        Assert.Equal(0.75m, stored.CostUsd);
    }
}
