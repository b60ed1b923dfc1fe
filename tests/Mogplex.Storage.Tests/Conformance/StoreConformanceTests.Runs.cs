using Mogplex.Contracts.Runs;

namespace Mogplex.Storage.Tests.Conformance;

public abstract partial class StoreConformanceTests
{
    [Fact]
    public async Task CreateRun_NewKey_CreatedWithRequestFieldsStored()
    {
        var (store, user, repo) = await ArrangeAsync();
        var run = NewRun(user.Id, repo.Id, Now) with
        {
            ConversationId = "conv-1",
            WorkspaceSessionId = "ws-1",
            Mode = "plan",
            CreateBranch = false,
        };

        var result = await store.Runs.CreateRunAsync(CreateCommand(run, "key-1"), Ct);

        var created = Assert.IsType<CreateRunResult.Created>(result).Run;
        Assert.Equal(run, created);
        Assert.Equal(run, await store.Runs.GetRunAsync(run.Id, user.Id, Ct));
    }

    [Fact]
    public async Task CreateRun_SameKeySameHash_ReplaysOriginalRun()
    {
        var (store, user, repo) = await ArrangeAsync();
        var original = NewRun(user.Id, repo.Id, Now);
        await store.Runs.CreateRunAsync(CreateCommand(original, "key-1", "hash-1"), Ct);
        Time.Advance(TimeSpan.FromMinutes(1));

        var retry = await store.Runs.CreateRunAsync(CreateCommand(NewRun(user.Id, repo.Id, Now), "key-1", "hash-1"), Ct);

        Assert.Equal(original, Assert.IsType<CreateRunResult.Replayed>(retry).Run);
        Assert.Single(await store.Runs.ListRunsAsync(new RunQuery(null, null, null, 100, null), Ct));
    }

    [Fact]
    public async Task CreateRun_SameKeyOtherHash_KeyConflictAndNoNewRun()
    {
        var (store, user, repo) = await ArrangeAsync();
        var original = NewRun(user.Id, repo.Id, Now);
        await store.Runs.CreateRunAsync(CreateCommand(original, "key-1", "hash-1"), Ct);
        var other = NewRun(user.Id, repo.Id, Now);

        var result = await store.Runs.CreateRunAsync(CreateCommand(other, "key-1", "hash-2"), Ct);

        Assert.IsType<CreateRunResult.KeyConflict>(result);
        Assert.Null(await store.Runs.GetRunAsync(other.Id, null, Ct));
        Assert.Equal([original.Id], (await store.Runs.ListRunsAsync(new RunQuery(null, null, null, 100, null), Ct)).Select(r => r.Id));
    }

    [Fact]
    public async Task CreateRun_SameKeyDifferentUsers_CreatesTwoRuns()
    {
        var (store, alice, aliceRepo) = await ArrangeAsync();
        var bob = await store.Users.AddUserAsync("bob", Now, Ct);
        var bobRepo = await AddRepoAsync(store, bob.Id, "bob/tools");

        var forAlice = await store.Runs.CreateRunAsync(CreateCommand(NewRun(alice.Id, aliceRepo.Id, Now), "shared-key", "hash-a"), Ct);
        var forBob = await store.Runs.CreateRunAsync(CreateCommand(NewRun(bob.Id, bobRepo.Id, Now), "shared-key", "hash-b"), Ct);

        var a = Assert.IsType<CreateRunResult.Created>(forAlice).Run;
        var b = Assert.IsType<CreateRunResult.Created>(forBob).Run;
        Assert.NotEqual(a.Id, b.Id);
        Assert.Equal(2, (await store.Runs.ListRunsAsync(new RunQuery(null, null, null, 100, null), Ct)).Count);
    }

    [Fact]
    public async Task CreateRun_FiftyConcurrentCallsOneKey_ExactlyOneCreatedOthersReplaySameRun()
    {
        var (store, user, repo) = await ArrangeAsync();
        var now = Now;

        var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Task.Run(
            () => store.Runs.CreateRunAsync(CreateCommand(NewRun(user.Id, repo.Id, now), "race-key", "hash-1", initialEvents: [Event("accepted")]), Ct),
            Ct)));

        var created = Assert.Single(results.OfType<CreateRunResult.Created>()).Run;
        var replayed = results.OfType<CreateRunResult.Replayed>().ToList();
        Assert.Equal(49, replayed.Count);
        Assert.All(replayed, r => Assert.Equal(created.Id, r.Run.Id));
        Assert.Equal([created.Id], (await store.Runs.ListRunsAsync(new RunQuery(null, null, null, 100, null), Ct)).Select(r => r.Id));
        Assert.Single(await store.Events.ListAsync(created.Id, 0, 100, Ct));
    }

    [Fact]
    public async Task CreateRun_InitialEvents_AppendedWithSeqOneToN()
    {
        var (store, user, repo) = await ArrangeAsync();

        var run = await CreateRunAsync(store, user.Id, repo.Id, Now, Event("a"), new NewRunEvent("tool", "bash", "b", """{"cmd":"ls"}"""), Event("c"));

        var events = await store.Events.ListAsync(run.Id, 0, 100, Ct);
        Assert.Equal([1L, 2L, 3L], events.Select(e => e.Seq));
        Assert.Equal(["a", "b", "c"], events.Select(e => e.Message));
        Assert.Equal("bash", events[1].ToolName);
        Assert.Equal("""{"cmd":"ls"}""", events[1].PayloadJson);
        Assert.All(events, e => Assert.Equal(run.Id, e.RunId));
        Assert.All(events, e => Assert.Equal(Start, e.CreatedAt));
    }

    [Fact]
    public async Task CreateRun_StartLimitFull_RateLimitedWithRetryAfterAndNoRun()
    {
        var (store, user, repo) = await ArrangeAsync();
        RateWindow[] limits = [new("runs-per-minute", 2, TimeSpan.FromSeconds(60))];
        await store.Runs.CreateRunAsync(CreateCommand(NewRun(user.Id, repo.Id, Start), "k1", startLimits: limits), Ct);
        await store.Runs.CreateRunAsync(CreateCommand(NewRun(user.Id, repo.Id, Start.AddSeconds(10)), "k2", startLimits: limits), Ct);
        var third = NewRun(user.Id, repo.Id, Start.AddSeconds(15.5));

        var result = await store.Runs.CreateRunAsync(CreateCommand(third, "k3", startLimits: limits), Ct);

        var decision = Assert.IsType<CreateRunResult.RateLimited>(result).Decision;
        Assert.False(decision.Allowed);
        Assert.Equal("runs-per-minute", decision.Window.Name);
        Assert.Equal(TimeSpan.FromSeconds(45), decision.RetryAfter);
        Assert.Null(await store.Runs.GetRunAsync(third.Id, null, Ct));
    }

    [Fact]
    public async Task CreateRun_AfterWindowPasses_AllowedAgainWithSameKey()
    {
        var (store, user, repo) = await ArrangeAsync();
        RateWindow[] limits = [new("runs-per-minute", 1, TimeSpan.FromSeconds(60))];
        await store.Runs.CreateRunAsync(CreateCommand(NewRun(user.Id, repo.Id, Start), "k1", startLimits: limits), Ct);
        var denied = await store.Runs.CreateRunAsync(CreateCommand(NewRun(user.Id, repo.Id, Start.AddSeconds(30)), "k2", startLimits: limits), Ct);
        Assert.IsType<CreateRunResult.RateLimited>(denied);

        // A denied start records neither a hit nor the key: the same key goes through later.
        var later = NewRun(user.Id, repo.Id, Start.AddSeconds(60));
        var result = await store.Runs.CreateRunAsync(CreateCommand(later, "k2", startLimits: limits), Ct);

        Assert.Equal(later.Id, Assert.IsType<CreateRunResult.Created>(result).Run.Id);
    }

    [Fact]
    public async Task CreateRun_ReplaysWhileLimitFull_ReplayNotLimitedAndNotCounted()
    {
        var (store, user, repo) = await ArrangeAsync();
        RateWindow[] limits = [new("runs-per-minute", 2, TimeSpan.FromSeconds(60))];
        var original = NewRun(user.Id, repo.Id, Start);
        await store.Runs.CreateRunAsync(CreateCommand(original, "k1", startLimits: limits), Ct);
        for (var i = 1; i <= 3; i++)
        {
            var replay = await store.Runs.CreateRunAsync(CreateCommand(NewRun(user.Id, repo.Id, Start.AddSeconds(i)), "k1", startLimits: limits), Ct);
            Assert.Equal(original.Id, Assert.IsType<CreateRunResult.Replayed>(replay).Run.Id);
        }

        var second = await store.Runs.CreateRunAsync(CreateCommand(NewRun(user.Id, repo.Id, Start.AddSeconds(5)), "k2", startLimits: limits), Ct);
        var third = await store.Runs.CreateRunAsync(CreateCommand(NewRun(user.Id, repo.Id, Start.AddSeconds(6)), "k3", startLimits: limits), Ct);
        var replayWhenFull = await store.Runs.CreateRunAsync(CreateCommand(NewRun(user.Id, repo.Id, Start.AddSeconds(7)), "k1", startLimits: limits), Ct);

        Assert.IsType<CreateRunResult.Created>(second);
        Assert.Equal(TimeSpan.FromSeconds(54), Assert.IsType<CreateRunResult.RateLimited>(third).Decision.RetryAfter);
        Assert.Equal(original.Id, Assert.IsType<CreateRunResult.Replayed>(replayWhenFull).Run.Id);
    }

    [Fact]
    public async Task GetRun_OwnerFilter_OtherUserGetsNull()
    {
        var (store, user, repo) = await ArrangeAsync();
        var bob = await store.Users.AddUserAsync("bob", Now, Ct);
        var run = await CreateRunAsync(store, user.Id, repo.Id);

        Assert.Equal(run, await store.Runs.GetRunAsync(run.Id, user.Id, Ct));
        Assert.Equal(run, await store.Runs.GetRunAsync(run.Id, null, Ct));
        Assert.Null(await store.Runs.GetRunAsync(run.Id, bob.Id, Ct));
        Assert.Null(await store.Runs.GetRunAsync(NewId(), null, Ct));
    }

    [Fact]
    public async Task ListRuns_NoCursor_NewestFirst()
    {
        var (store, user, repo) = await ArrangeAsync();
        var older = await CreateRunAsync(store, user.Id, repo.Id, Start);
        var newest = await CreateRunAsync(store, user.Id, repo.Id, Start.AddMinutes(2));
        var middle = await CreateRunAsync(store, user.Id, repo.Id, Start.AddMinutes(1));

        var runs = await store.Runs.ListRunsAsync(new RunQuery(null, null, null, 100, null), Ct);

        Assert.Equal([newest.Id, middle.Id, older.Id], runs.Select(r => r.Id));
    }

    [Fact]
    public async Task ListRuns_KeysetPagesOverIdenticalTimes_NoDuplicatesNoGaps()
    {
        var (store, user, repo) = await ArrangeAsync();
        var all = new List<RunRecord>();
        for (var i = 0; i < 23; i++)
        {
            // Groups of runs share one created_at, so the id must break the ties.
            all.Add(await CreateRunAsync(store, user.Id, repo.Id, Start.AddSeconds(i / 5)));
        }

        var expected = all
            .OrderByDescending(r => r.CreatedAt)
            .ThenByDescending(r => r.Id, StringComparer.Ordinal)
            .Select(r => r.Id)
            .ToList();

        var seen = new List<string>();
        RunCursor? cursor = null;
        var pages = 0;
        while (true)
        {
            var page = await store.Runs.ListRunsAsync(new RunQuery(user.Id, null, null, 4, cursor), Ct);
            if (page.Count == 0)
            {
                break;
            }

            Assert.True(page.Count <= 4);
            pages++;
            seen.AddRange(page.Select(r => r.Id));
            cursor = new RunCursor(page[^1].CreatedAt, page[^1].Id);
        }

        Assert.Equal(6, pages);
        Assert.Equal(expected, seen);
    }

    [Fact]
    public async Task ListRuns_Filters_RepoStatusAndUser()
    {
        var (store, alice, repoA) = await ArrangeAsync();
        var repoB = await AddRepoAsync(store, alice.Id, "acme/other");
        var bob = await store.Users.AddUserAsync("bob", Now, Ct);
        var bobRepo = await AddRepoAsync(store, bob.Id, "bob/tools");
        var a1 = await CreateRunAsync(store, alice.Id, repoA.Id, Start);
        var a2 = await CreateRunAsync(store, alice.Id, repoA.Id, Start.AddSeconds(1));
        var b1 = await CreateRunAsync(store, alice.Id, repoB.Id, Start.AddSeconds(2));
        var bob1 = await CreateRunAsync(store, bob.Id, bobRepo.Id, Start.AddSeconds(3));
        await TransitionAsync(store, a2.Id, RunStatuses.Pending, RunStatuses.Streaming);
        await TransitionAsync(store, bob1.Id, RunStatuses.Pending, RunStatuses.Streaming);

        async Task<IEnumerable<string>> Ids(RunQuery q) => (await store.Runs.ListRunsAsync(q, Ct)).Select(r => r.Id);

        Assert.Equal([a2.Id, a1.Id], await Ids(new RunQuery(null, repoA.Id, null, 100, null)));
        Assert.Equal([bob1.Id, a2.Id], await Ids(new RunQuery(null, null, RunStatuses.Streaming, 100, null)));
        Assert.Equal([b1.Id, a2.Id, a1.Id], await Ids(new RunQuery(alice.Id, null, null, 100, null)));
        Assert.Equal([a2.Id], await Ids(new RunQuery(alice.Id, repoA.Id, RunStatuses.Streaming, 100, null)));
        Assert.Equal([a1.Id], await Ids(new RunQuery(alice.Id, null, RunStatuses.Pending, 1, new RunCursor(b1.CreatedAt, b1.Id))));
    }

    [Fact]
    public async Task Transition_PendingToStreaming_UpdatesRunAndAppendsEventsAfterExisting()
    {
        var (store, user, repo) = await ArrangeAsync();
        var run = await CreateRunAsync(store, user.Id, repo.Id, Now, Event("accepted"));
        Time.Advance(TimeSpan.FromSeconds(3));

        var updated = await store.Runs.TransitionAsync(new RunTransition
        {
            RunId = run.Id,
            From = [RunStatuses.Pending],
            To = RunStatuses.Streaming,
            At = Now,
            RuntimeRunId = "rt-1",
            SandboxId = "sbx-1",
            Events = [Event("started"), Event("cloning")],
        }, Ct);

        Assert.NotNull(updated);
        Assert.Equal(RunStatuses.Streaming, updated.Status);
        Assert.Equal(Start.AddSeconds(3), updated.StartedAt);
        Assert.Equal(Start.AddSeconds(3), updated.UpdatedAt);
        Assert.Null(updated.FinishedAt);
        Assert.Equal("rt-1", updated.RuntimeRunId);
        Assert.Equal("sbx-1", updated.SandboxId);
        Assert.Equal(updated, await store.Runs.GetRunAsync(run.Id, null, Ct));
        var events = await store.Events.ListAsync(run.Id, 0, 100, Ct);
        Assert.Equal([(1L, "accepted"), (2L, "started"), (3L, "cloning")], events.Select(e => (e.Seq, e.Message!)));
    }

    [Fact]
    public async Task Transition_ToTerminal_SetsFinishedAtKeepsStartedAtAndNullFieldsKeepColumns()
    {
        var (store, user, repo) = await ArrangeAsync();
        var run = await CreateRunAsync(store, user.Id, repo.Id);
        Time.Advance(TimeSpan.FromSeconds(1));
        await store.Runs.TransitionAsync(new RunTransition { RunId = run.Id, From = [RunStatuses.Pending], To = RunStatuses.Streaming, At = Now, RuntimeRunId = "rt-1" }, Ct);
        Time.Advance(TimeSpan.FromSeconds(10));

        var finished = await store.Runs.TransitionAsync(new RunTransition
        {
            RunId = run.Id,
            From = [RunStatuses.Pending, RunStatuses.Streaming],
            To = RunStatuses.Failed,
            At = Now,
            Error = "harness crashed",
            Commit = "abc123",
        }, Ct);

        Assert.NotNull(finished);
        Assert.Equal(RunStatuses.Failed, finished.Status);
        Assert.Equal(Start.AddSeconds(1), finished.StartedAt);
        Assert.Equal(Start.AddSeconds(11), finished.FinishedAt);
        Assert.Equal("harness crashed", finished.Error);
        Assert.Equal("abc123", finished.Commit);
        Assert.Equal("rt-1", finished.RuntimeRunId);
    }

    [Fact]
    public async Task Transition_WrongFrom_ReturnsNullAndChangesNothing()
    {
        var (store, user, repo) = await ArrangeAsync();
        var run = await CreateRunAsync(store, user.Id, repo.Id, Now, Event("accepted"));
        Time.Advance(TimeSpan.FromSeconds(5));

        var result = await store.Runs.TransitionAsync(new RunTransition
        {
            RunId = run.Id,
            From = [RunStatuses.Streaming],
            To = RunStatuses.Success,
            At = Now,
            Error = "should not be written",
            Events = [Event("done")],
        }, Ct);

        Assert.Null(result);
        Assert.Equal(run, await store.Runs.GetRunAsync(run.Id, null, Ct));
        Assert.Single(await store.Events.ListAsync(run.Id, 0, 100, Ct));
    }

    [Fact]
    public async Task Transition_UnknownRun_ReturnsNull()
    {
        var store = await CreateStoreAsync();

        Assert.Null(await TransitionAsync(store, NewId(), RunStatuses.Pending, RunStatuses.Streaming, Event("x")));
    }

    [Theory]
    [InlineData(RunStatuses.Success)]
    [InlineData(RunStatuses.Failed)]
    [InlineData(RunStatuses.Cancelled)]
    public async Task Transition_FromTerminal_AlwaysNullAndStatusKept(string terminal)
    {
        var (store, user, repo) = await ArrangeAsync();
        var run = await CreateRunAsync(store, user.Id, repo.Id);
        await TransitionAsync(store, run.Id, RunStatuses.Pending, RunStatuses.Streaming);
        Time.Advance(TimeSpan.FromSeconds(1));
        var final = await TransitionAsync(store, run.Id, RunStatuses.Streaming, terminal, Event("finished"));
        Assert.NotNull(final);
        Time.Advance(TimeSpan.FromSeconds(1));

        foreach (var to in RunStatuses.All)
        {
            var result = await store.Runs.TransitionAsync(new RunTransition
            {
                RunId = run.Id,
                From = RunStatuses.All,
                To = to,
                At = Now,
                Error = "late",
                Events = [Event("late " + to)],
            }, Ct);
            Assert.Null(result);
        }

        Assert.Equal(final, await store.Runs.GetRunAsync(run.Id, null, Ct));
        Assert.Equal(["finished"], (await store.Events.ListAsync(run.Id, 0, 100, Ct)).Select(e => e.Message));
    }

    [Fact]
    public async Task Transition_EventWriteFails_StatusChangeRolledBack()
    {
        var (store, user, repo) = await ArrangeAsync();
        var run = await CreateRunAsync(store, user.Id, repo.Id, Now, Event("accepted"));

        // An event without a type violates the schema: the status change in the same transaction must not survive.
        await Assert.ThrowsAnyAsync<Exception>(() => store.Runs.TransitionAsync(new RunTransition
        {
            RunId = run.Id,
            From = [RunStatuses.Pending],
            To = RunStatuses.Streaming,
            At = Now,
            Events = [Event("ok"), new NewRunEvent(null!, null, "broken", null)],
        }, Ct));

        Assert.Equal(run, await store.Runs.GetRunAsync(run.Id, null, Ct));
        Assert.Equal(["accepted"], (await store.Events.ListAsync(run.Id, 0, 100, Ct)).Select(e => e.Message));
        Assert.Equal(2L, (await store.Events.AppendAsync(run.Id, [Event("next")], Now, Ct))[0].Seq);
    }

    [Fact]
    public async Task Transition_ExpectedLeaseOwnerNotHolding_ReturnsNullAndChangesNothing()
    {
        var (store, user, repo) = await ArrangeAsync();
        var run = await CreateRunAsync(store, user.Id, repo.Id);

        var result = await store.Runs.TransitionAsync(new RunTransition
        {
            RunId = run.Id,
            From = [RunStatuses.Pending],
            To = RunStatuses.Streaming,
            At = Now,
            ExpectedLeaseOwner = "node-b",
            Events = [Event("started")],
        }, Ct);

        Assert.Null(result);
        Assert.Equal(run, await store.Runs.GetRunAsync(run.Id, null, Ct));
        Assert.Empty(await store.Events.ListAsync(run.Id, 0, 100, Ct));
    }

    [Fact]
    public async Task RequestCancel_ActiveRun_RecordedOnceWithOneEvent()
    {
        var (store, user, repo) = await ArrangeAsync();
        var run = await CreateRunAsync(store, user.Id, repo.Id);
        Time.Advance(TimeSpan.FromSeconds(2));

        var (first, recorded) = await store.Runs.RequestCancelAsync(run.Id, user.Id, Event("cancel requested"), Now, Ct);
        Time.Advance(TimeSpan.FromSeconds(2));
        var (second, recordedAgain) = await store.Runs.RequestCancelAsync(run.Id, user.Id, Event("cancel requested"), Now, Ct);

        Assert.True(recorded);
        Assert.False(recordedAgain);
        Assert.Equal(Start.AddSeconds(2), first!.CancelRequestedAt);
        Assert.Equal(RunStatuses.Pending, first.Status);
        Assert.Equal(first, second);
        Assert.Equal(["cancel requested"], (await store.Events.ListAsync(run.Id, 0, 100, Ct)).Select(e => e.Message));
    }

    [Fact]
    public async Task RequestCancel_StreamingRun_Recorded()
    {
        var (store, user, repo) = await ArrangeAsync();
        var run = await CreateRunAsync(store, user.Id, repo.Id);
        await TransitionAsync(store, run.Id, RunStatuses.Pending, RunStatuses.Streaming);

        var (after, recorded) = await store.Runs.RequestCancelAsync(run.Id, null, Event("cancel requested"), Now, Ct);

        Assert.True(recorded);
        Assert.Equal(RunStatuses.Streaming, after!.Status);
        Assert.Equal(Start, after.CancelRequestedAt);
    }

    [Theory]
    [InlineData(RunStatuses.Success)]
    [InlineData(RunStatuses.Failed)]
    [InlineData(RunStatuses.Cancelled)]
    public async Task RequestCancel_TerminalRun_NotRecordedAndRunReturned(string terminal)
    {
        var (store, user, repo) = await ArrangeAsync();
        var run = await CreateRunAsync(store, user.Id, repo.Id);
        var final = await TransitionAsync(store, run.Id, RunStatuses.Pending, terminal);

        var (after, recorded) = await store.Runs.RequestCancelAsync(run.Id, user.Id, Event("cancel requested"), Now, Ct);

        Assert.False(recorded);
        Assert.Equal(final, after);
        Assert.Null(after!.CancelRequestedAt);
        Assert.Empty(await store.Events.ListAsync(run.Id, 0, 100, Ct));
    }

    [Fact]
    public async Task RequestCancel_OtherUserOrUnknownRun_NullAndNotRecorded()
    {
        var (store, user, repo) = await ArrangeAsync();
        var bob = await store.Users.AddUserAsync("bob", Now, Ct);
        var run = await CreateRunAsync(store, user.Id, repo.Id);

        var (forBob, bobRecorded) = await store.Runs.RequestCancelAsync(run.Id, bob.Id, Event("cancel requested"), Now, Ct);
        var (unknown, unknownRecorded) = await store.Runs.RequestCancelAsync(NewId(), null, Event("cancel requested"), Now, Ct);

        Assert.Null(forBob);
        Assert.False(bobRecorded);
        Assert.Null(unknown);
        Assert.False(unknownRecorded);
        Assert.Null((await store.Runs.GetRunAsync(run.Id, null, Ct))!.CancelRequestedAt);
    }

    [Fact]
    public async Task Changes_AppendToRun_CompletesThatRunsWaiterOnly()
    {
        var (store, user, repo) = await ArrangeAsync();
        var runA = await CreateRunAsync(store, user.Id, repo.Id);
        var runB = await CreateRunAsync(store, user.Id, repo.Id);
        var waitA = store.Changes.NextChangeAsync(runA.Id);
        var waitB = store.Changes.NextChangeAsync(runB.Id);

        await store.Events.AppendAsync(runB.Id, [Event("b")], Now, Ct);

        await WaitAsync(waitB);
        Assert.False(waitA.IsCompleted);

        await store.Events.AppendAsync(runA.Id, [Event("a")], Now, Ct);
        await WaitAsync(waitA);
    }

    [Fact]
    public async Task Changes_Transition_CompletesWaiter()
    {
        var (store, user, repo) = await ArrangeAsync();
        var run = await CreateRunAsync(store, user.Id, repo.Id);
        var other = await CreateRunAsync(store, user.Id, repo.Id);
        var wait = store.Changes.NextChangeAsync(run.Id);
        var otherWait = store.Changes.NextChangeAsync(other.Id);

        await TransitionAsync(store, run.Id, RunStatuses.Pending, RunStatuses.Streaming);

        await WaitAsync(wait);
        Assert.False(otherWait.IsCompleted);
    }

    [Fact]
    public async Task Changes_RequestCancel_CompletesWaiter()
    {
        var (store, user, repo) = await ArrangeAsync();
        var run = await CreateRunAsync(store, user.Id, repo.Id);
        var wait = store.Changes.NextChangeAsync(run.Id);

        await store.Runs.RequestCancelAsync(run.Id, null, Event("cancel requested"), Now, Ct);

        await WaitAsync(wait);
    }
}
