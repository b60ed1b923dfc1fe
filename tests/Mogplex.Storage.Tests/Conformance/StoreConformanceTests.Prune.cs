using Mogplex.Contracts.Runs;

namespace Mogplex.Storage.Tests.Conformance;

public abstract partial class StoreConformanceTests
{
    /// <summary>A run that went through streaming to <paramref name="status"/> now, with events along the way.</summary>
    private async Task<RunRecord> FinishedRunAsync(IMogplexStore store, UserRecord user, RepoRecord repo, string status, int events)
    {
        var run = await CreateRunAsync(store, user.Id, repo.Id, null, Event("queued"));
        await TransitionAsync(store, run.Id, RunStatuses.Pending, RunStatuses.Streaming, Events("out", events));
        return (await TransitionAsync(store, run.Id, RunStatuses.Streaming, status, Event("done")))!;
    }

    [Fact]
    public async Task PruneEvents_RunsFinishedBeforeTheCutoff_TheirEventsGoRunsAndOthersStay()
    {
        var (store, user, repo) = await ArrangeAsync();
        var active = await CreateRunAsync(store, user.Id, repo.Id, null, Event("queued"));
        await TransitionAsync(store, active.Id, RunStatuses.Pending, RunStatuses.Streaming, Events("live", 3));
        var old = await FinishedRunAsync(store, user, repo, RunStatuses.Success, events: 5);
        var oldFailed = await FinishedRunAsync(store, user, repo, RunStatuses.Failed, events: 2);
        Time.Advance(TimeSpan.FromDays(10));
        var recent = await FinishedRunAsync(store, user, repo, RunStatuses.Cancelled, events: 4);

        var pruned = await store.Events.PruneAsync(Now - TimeSpan.FromDays(5), 100, Ct);

        Assert.Equal(
            new[] { (old.Id, RunStatuses.Success, Start, 7L), (oldFailed.Id, RunStatuses.Failed, Start, 4L) }.OrderBy(p => p.Item1, StringComparer.Ordinal),
            pruned.Select(p => (p.RunId, p.Status, p.FinishedAt, p.EventsRemoved)).OrderBy(p => p.RunId, StringComparer.Ordinal));
        Assert.Empty(await store.Events.ListAsync(old.Id, 0, 100, Ct));
        Assert.Empty(await store.Events.ListAsync(oldFailed.Id, 0, 100, Ct));
        var kept = await store.Runs.GetRunAsync(old.Id, null, Ct);
        Assert.Equal((RunStatuses.Success, (DateTimeOffset?)Start), (kept!.Status, kept.FinishedAt));
        Assert.Equal(6, (await store.Events.ListAsync(recent.Id, 0, 100, Ct)).Count);
        Assert.Equal(4, (await store.Events.ListAsync(active.Id, 0, 100, Ct)).Count);
        Assert.Empty(await store.Events.PruneAsync(Now - TimeSpan.FromDays(5), 100, Ct));
    }

    [Fact]
    public async Task PruneEvents_ActiveRunsAreNeverTouched_HoweverOld()
    {
        var (store, user, repo) = await ArrangeAsync();
        var pending = await CreateRunAsync(store, user.Id, repo.Id, null, Event("queued"));
        var streaming = await CreateRunAsync(store, user.Id, repo.Id, null, Event("queued"));
        await TransitionAsync(store, streaming.Id, RunStatuses.Pending, RunStatuses.Streaming, Events("live", 3));
        Time.Advance(TimeSpan.FromDays(400));

        Assert.Empty(await store.Events.PruneAsync(Now, 100, Ct));

        Assert.Single(await store.Events.ListAsync(pending.Id, 0, 100, Ct));
        Assert.Equal(4, (await store.Events.ListAsync(streaming.Id, 0, 100, Ct)).Count);
    }

    [Fact]
    public async Task PruneEvents_MaxRuns_OldestFirstInBatchesUntilNothingIsLeft()
    {
        var (store, user, repo) = await ArrangeAsync();
        var finished = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            finished.Add((await FinishedRunAsync(store, user, repo, RunStatuses.Success, events: 1)).Id);
            Time.Advance(TimeSpan.FromMinutes(1));
        }

        var first = await store.Events.PruneAsync(Now, 2, Ct);
        var second = await store.Events.PruneAsync(Now, 2, Ct);
        var third = await store.Events.PruneAsync(Now, 2, Ct);

        Assert.Equal(finished[..2], first.Select(p => p.RunId));
        Assert.Equal(finished[2..], second.Select(p => p.RunId));
        Assert.Empty(third);
    }

    [Fact]
    public async Task PruneEvents_AfterPrune_NewEventsOfOtherRunsKeepTheirOrder()
    {
        var (store, user, repo) = await ArrangeAsync();
        var old = await FinishedRunAsync(store, user, repo, RunStatuses.Success, events: 2);
        Time.Advance(TimeSpan.FromDays(1));
        await store.Events.PruneAsync(Now, 100, Ct);
        var next = await CreateRunAsync(store, user.Id, repo.Id, null, Event("queued"));

        await store.Events.AppendAsync(next.Id, Events("n", 2), Now, Ct);

        Assert.Equal([1L, 2L, 3L], (await store.Events.ListAsync(next.Id, 0, 100, Ct)).Select(e => e.Seq));
        Assert.Empty(await store.Events.ListAsync(old.Id, 0, 100, Ct));
    }

    [Fact]
    public async Task PruneSandboxes_InactiveAndOld_RecordsAndLifecycleGoActiveRecentAndInUseStay()
    {
        var (store, user, repo) = await ArrangeAsync();
        var stoppedOld = await CreateSandboxAsync(store, NewSandbox(user.Id, repo.Id, Now, "b/stopped-old"));
        await StopSandboxAsync(store, stoppedOld.Id, null);
        var errorOld = await CreateSandboxAsync(store, NewSandbox(user.Id, repo.Id, Now, "b/error-old"));
        await store.Sandboxes.UpdateAsync(new SandboxUpdate { Id = errorOld.Id, Status = "error", At = Now, Error = "install failed" }, Ct);
        var activeOld = await CreateSandboxAsync(store, NewSandbox(user.Id, repo.Id, Now, "b/active-old"));
        var inUse = await CreateSandboxAsync(store, NewSandbox(user.Id, repo.Id, Now, "b/in-use"));
        var run = await CreateRunAsync(store, user.Id, repo.Id);
        await store.Runs.TransitionAsync(new RunTransition { RunId = run.Id, From = [RunStatuses.Pending], To = RunStatuses.Streaming, At = Now, SandboxRecordId = inUse.Id }, Ct);
        // Stopped under a streaming run only by a raw write; the prune still leaves it to the run.
        await store.Sandboxes.UpdateAsync(new SandboxUpdate { Id = inUse.Id, Status = "error", At = Now }, Ct);
        Time.Advance(TimeSpan.FromDays(10));
        var stoppedRecent = await CreateSandboxAsync(store, NewSandbox(user.Id, repo.Id, Now, "b/stopped-recent"));
        await StopSandboxAsync(store, stoppedRecent.Id, null);

        var pruned = await store.Sandboxes.PruneAsync(Now - TimeSpan.FromDays(5), Ct);

        Assert.Equal(new[] { stoppedOld.Id, errorOld.Id }.Order(StringComparer.Ordinal), pruned.Select(s => s.Id).Order(StringComparer.Ordinal));
        Assert.All(pruned, s => Assert.Equal("/var/lib/mogplex/sandboxes/x", s.Path));
        Assert.Null(await store.Sandboxes.GetAsync(stoppedOld.Id, null, Ct));
        Assert.Null(await store.Sandboxes.GetAsync(errorOld.Id, null, Ct));
        Assert.Empty(await store.Sandboxes.ListLifecycleAsync(stoppedOld.Id, Ct));
        Assert.NotNull(await store.Sandboxes.GetAsync(activeOld.Id, null, Ct));
        Assert.NotNull(await store.Sandboxes.GetAsync(inUse.Id, null, Ct));
        Assert.NotNull(await store.Sandboxes.GetAsync(stoppedRecent.Id, null, Ct));
        Assert.Empty(await store.Sandboxes.PruneAsync(Now - TimeSpan.FromDays(5), Ct));
    }
}
