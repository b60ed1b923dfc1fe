using Mogplex.Contracts.Runs;

namespace Mogplex.Storage.Tests.Conformance;

/// <summary>[beyond] issue #13: why a pending run waits, and its place, as the claim would see it.</summary>
public abstract partial class StoreConformanceTests
{
    [Fact]
    public async Task ListWaiting_TwoRunsOfOneBranch_TheSecondWaitsForTheBranch()
    {
        var (store, user, repo) = await ArrangeAsync();
        var first = await CreateRunOnBranchAsync(store, user.Id, repo.Id, "feature/x");
        Time.Advance(TimeSpan.FromSeconds(1));
        var second = await CreateRunOnBranchAsync(store, user.Id, repo.Id, "feature/x");
        Time.Advance(TimeSpan.FromSeconds(1));
        var third = await CreateRunOnBranchAsync(store, user.Id, repo.Id, "feature/x");

        // Nobody holds the branch yet: the first takes the next worker, the others queue behind it.
        Assert.Equal(
            [(first.Id, RunWaitReasons.Worker, 1, "feature/x"), (second.Id, RunWaitReasons.Branch, 2, "feature/x"), (third.Id, RunWaitReasons.Branch, 3, "feature/x")],
            await WaitsAsync(store, null));

        Assert.Equal(first.Id, (await store.Queue.ClaimNextAsync(new("node-a", "e1", Now, s_lease), Ct))!.Id);
        Assert.Equal([(second.Id, RunWaitReasons.Branch, 1, "feature/x"), (third.Id, RunWaitReasons.Branch, 2, "feature/x")], await WaitsAsync(store, null));

        // Streaming still holds it; the end of the first run frees it for the second.
        await TransitionAsync(store, first.Id, RunStatuses.Pending, RunStatuses.Streaming);
        Assert.Equal(RunWaitReasons.Branch, (await WaitsAsync(store, null))[0].WaitingFor);
        await TransitionAsync(store, first.Id, RunStatuses.Streaming, RunStatuses.Success);
        Assert.Equal([(second.Id, RunWaitReasons.Worker, 1, "feature/x"), (third.Id, RunWaitReasons.Branch, 2, "feature/x")], await WaitsAsync(store, null));
    }

    [Fact]
    public async Task ListWaiting_MoreRunsThanWorkers_WaitForAWorkerInClaimOrder()
    {
        var (store, user, repo) = await ArrangeAsync();
        var runs = new List<RunRecord>();
        for (var i = 0; i < 4; i++)
        {
            runs.Add(await CreateRunAsync(store, user.Id, repo.Id, Now));
            Time.Advance(TimeSpan.FromSeconds(1));
        }

        var waits = await WaitsAsync(store, null);
        Assert.Equal([.. runs.Select((r, i) => (r.Id, RunWaitReasons.Worker, i + 1, r.WorkingBranch))], waits);

        // A claimed run leaves the line and the others move up.
        Assert.Equal(runs[0].Id, (await store.Queue.ClaimNextAsync(new("node-a", "e1", Now, s_lease), Ct))!.Id);
        Assert.Equal([.. runs.Skip(1).Select((r, i) => (r.Id, RunWaitReasons.Worker, i + 1, r.WorkingBranch))], await WaitsAsync(store, null));
    }

    [Fact]
    public async Task ListWaiting_UserAtTheLimit_TheirRunsWaitForTheLimitAndOtherUsersForAWorker()
    {
        var (store, alice, aliceRepo) = await ArrangeAsync();
        var bob = await store.Users.AddUserAsync("bob", Now, Ct);
        var bobRepo = await AddRepoAsync(store, bob.Id, "acme/gadget", "local:/srv/gadget");
        var aliceRuns = new List<RunRecord>();
        for (var i = 0; i < 3; i++)
        {
            aliceRuns.Add(await CreateRunAsync(store, alice.Id, aliceRepo.Id, Now));
            Time.Advance(TimeSpan.FromSeconds(1));
        }

        var bobRun = await CreateRunAsync(store, bob.Id, bobRepo.Id, Now);
        Assert.Equal(aliceRuns[0].Id, (await store.Queue.ClaimNextAsync(new("node-a", "e1", Now, s_lease, 1), Ct))!.Id);

        var waits = await store.Queue.ListWaitingAsync(new RunWaitQuery(1), Ct);
        Assert.Equal(
            [(aliceRuns[1].Id, RunWaitReasons.UserLimit, 1), (aliceRuns[2].Id, RunWaitReasons.UserLimit, 2), (bobRun.Id, RunWaitReasons.Worker, 1)],
            waits.Select(w => (w.RunId, w.WaitingFor, w.Position)));

        // A limit of 2 leaves room for one more of alice's runs: it goes first, the next waits for the limit.
        waits = await store.Queue.ListWaitingAsync(new RunWaitQuery(2), Ct);
        Assert.Equal(
            [(aliceRuns[1].Id, RunWaitReasons.Worker, 1), (aliceRuns[2].Id, RunWaitReasons.UserLimit, 2), (bobRun.Id, RunWaitReasons.Worker, 2)],
            waits.Select(w => (w.RunId, w.WaitingFor, w.Position)));
    }

    [Fact]
    public async Task ListWaiting_WorkerPositions_AreTheOrderTheClaimTakesThem()
    {
        // A mix of users, shared branches and a per-user limit: with no run ending, the claims take
        // exactly the runs that wait for a worker, in their positions, and then nothing.
        var (store, alice, aliceRepo) = await ArrangeAsync();
        var bob = await store.Users.AddUserAsync("bob", Now, Ct);
        var bobRepo = await AddRepoAsync(store, bob.Id, "acme/gadget", "local:/srv/gadget");
        string[] branches = ["a", "b", "a", "c", "d", "b", "e"];
        for (var i = 0; i < branches.Length; i++)
        {
            await CreateRunOnBranchAsync(store, alice.Id, aliceRepo.Id, branches[i]);
            Time.Advance(TimeSpan.FromMilliseconds(10));
            await CreateRunOnBranchAsync(store, bob.Id, bobRepo.Id, branches[i]);
            Time.Advance(TimeSpan.FromMilliseconds(10));
        }

        var waits = await store.Queue.ListWaitingAsync(new RunWaitQuery(3), Ct);
        var workerLine = waits.Where(w => w.WaitingFor == RunWaitReasons.Worker).OrderBy(w => w.Position).ToList();
        Assert.Equal(Enumerable.Range(1, workerLine.Count), workerLine.Select(w => w.Position));
        Assert.Contains(waits, w => w.WaitingFor == RunWaitReasons.Branch);
        Assert.Contains(waits, w => w.WaitingFor == RunWaitReasons.UserLimit);

        var claimed = new List<string>();
        while (await store.Queue.ClaimNextAsync(new("node-a", "e", Now, s_lease, 3), Ct) is { } run)
        {
            claimed.Add(run.Id);
        }

        Assert.Equal(workerLine.Select(w => w.RunId), claimed);
    }

    [Fact]
    public async Task ListWaiting_StartedCancellingAndFilteredRuns_HaveNoPlace()
    {
        var (store, user, repo) = await ArrangeAsync();
        var started = await CreateRunAsync(store, user.Id, repo.Id, Now);
        Time.Advance(TimeSpan.FromSeconds(1));
        var cancelling = await CreateRunAsync(store, user.Id, repo.Id, Now);
        Time.Advance(TimeSpan.FromSeconds(1));
        var waiting = await CreateRunAsync(store, user.Id, repo.Id, Now);
        Assert.Equal(started.Id, (await store.Queue.ClaimNextAsync(new("node-a", "e1", Now, s_lease), Ct))!.Id);
        await store.Runs.RequestCancelAsync(cancelling.Id, null, Event("cancel"), Now, Ct);

        Assert.Equal([(waiting.Id, RunWaitReasons.Worker, 1, waiting.WorkingBranch)], await WaitsAsync(store, null));
        await TransitionAsync(store, started.Id, RunStatuses.Pending, RunStatuses.Streaming);
        Assert.Empty(await WaitsAsync(store, [started.Id, cancelling.Id]));
        Assert.Equal([waiting.Id], (await WaitsAsync(store, [started.Id, waiting.Id])).Select(w => w.RunId));
        Assert.Empty(await WaitsAsync(store, []));
    }

    [Fact]
    public async Task AnnounceWait_OncePerReason_EvenFromConcurrentCallers()
    {
        var (store, user, repo) = await ArrangeAsync();
        var holder = await CreateRunOnBranchAsync(store, user.Id, repo.Id, "shared");
        Time.Advance(TimeSpan.FromSeconds(1));
        var run = await CreateRunOnBranchAsync(store, user.Id, repo.Id, "shared");
        await store.Queue.ClaimNextAsync(new("node-a", "e1", Now, s_lease), Ct);

        var unannounced = Assert.Single(await store.Queue.ListWaitingAsync(new RunWaitQuery(null, OnlyUnannounced: true), Ct));
        Assert.Equal((run.Id, RunWaitReasons.Branch, null), (unannounced.RunId, unannounced.WaitingFor, unannounced.Announced));

        var calls = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => store.Queue.AnnounceWaitAsync(run.Id, RunWaitReasons.Branch, Event($"branch {i}"), Now, Ct)));
        Assert.Single(calls, c => c);
        Assert.Empty(await store.Queue.ListWaitingAsync(new RunWaitQuery(null, OnlyUnannounced: true), Ct));
        Assert.Equal(RunWaitReasons.Branch, Assert.Single(await store.Queue.ListWaitingAsync(new RunWaitQuery(null), Ct)).Announced);
        Assert.False(await store.Queue.AnnounceWaitAsync(run.Id, RunWaitReasons.Branch, Event("again"), Now, Ct));

        // A new reason is announced once more; a claimed run is announced nothing.
        await TransitionAsync(store, holder.Id, RunStatuses.Pending, RunStatuses.Failed);
        Assert.Equal(RunWaitReasons.Worker, Assert.Single(await store.Queue.ListWaitingAsync(new RunWaitQuery(null, OnlyUnannounced: true), Ct)).WaitingFor);
        Assert.True(await store.Queue.AnnounceWaitAsync(run.Id, RunWaitReasons.Worker, Event("worker"), Now, Ct));
        await store.Queue.ClaimNextAsync(new("node-a", "e2", Now, s_lease), Ct);
        Assert.False(await store.Queue.AnnounceWaitAsync(run.Id, RunWaitReasons.Branch, Event("late"), Now, Ct));

        var messages = (await store.Events.ListAsync(run.Id, 0, 100, Ct)).Select(e => e.Message).ToList();
        Assert.Single(messages, m => m!.StartsWith("branch ", StringComparison.Ordinal));
        Assert.Equal(["worker"], messages.Where(m => m is "worker" or "again" or "late"));
    }

    private async Task<List<(string RunId, string WaitingFor, int Position, string WorkingBranch)>> WaitsAsync(IMogplexStore store, IReadOnlyCollection<string>? runIds) =>
        [.. (await store.Queue.ListWaitingAsync(new RunWaitQuery(null, runIds), Ct)).Select(w => (w.RunId, w.WaitingFor, w.Position, w.WorkingBranch))];
}
