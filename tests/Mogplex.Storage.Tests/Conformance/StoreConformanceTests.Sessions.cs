using System.Text;
using Mogplex.Contracts.Runs;

namespace Mogplex.Storage.Tests.Conformance;

/// <summary>
/// Interactive runs' sessions (interactive.md): what people send a run (added once per key, taken
/// once in order) and the run's state between turns, written by the node that holds it.
/// </summary>
public abstract partial class StoreConformanceTests
{
    /// <summary>Creates a pending run with <c>interactive: true</c> (at <see cref="Now"/>).</summary>
    private async Task<RunRecord> CreateInteractiveRunAsync(IMogplexStore store, string userId, string repoId)
    {
        var result = await store.Runs.CreateRunAsync(CreateCommand(NewRun(userId, repoId, Now) with { Interactive = true }, NewId()), Ct);
        var run = Assert.IsType<CreateRunResult.Created>(result).Run;
        Assert.True(run.Interactive);
        return run;
    }

    /// <summary>Creates an interactive run and claims it for <paramref name="owner"/> (claimed at once, so it is the oldest pending run).</summary>
    private async Task<RunRecord> CreateClaimedInteractiveRunAsync(IMogplexStore store, string userId, string repoId, string owner = "node-a")
    {
        var run = await CreateInteractiveRunAsync(store, userId, repoId);
        var claimed = await store.Queue.ClaimNextAsync(new(owner, NewId(), Now, s_lease), Ct);
        Assert.Equal(run.Id, claimed?.Id);
        return claimed!;
    }

    private RunInputRecord NewInput(string runId, string? text = "and the tests too", string kind = RunInputKinds.Message, string? mode = "queue", string? clientKey = null, string? id = null) => new()
    {
        Id = id ?? NewId(),
        RunId = runId,
        Kind = kind,
        Text = text,
        Mode = mode,
        ClientKey = clientKey,
        CreatedAt = Now,
    };

    private Task<(AddRunInputOutcome Outcome, RunInputRecord? Input)> AddInputAsync(IMogplexStore store, RunInputRecord input, string? userId = null, params NewRunEvent[] events) =>
        store.Sessions.AddInputAsync(input, userId, events, Ct);

    private async Task<int> CountEventsAsync(IMogplexStore store, string runId) => (await store.Events.ListAsync(runId, 0, 1000, Ct)).Count;

    [Fact]
    public async Task Sessions_AddInput_Added_StoredWithItsEvents_TakenOnce()
    {
        var (store, user, repo) = await ArrangeAsync();
        var run = await CreateInteractiveRunAsync(store, user.Id, repo.Id);
        var message = NewInput(run.Id, clientKey: "key-1");
        var interrupt = NewInput(run.Id, text: null, kind: RunInputKinds.Interrupt, mode: null);

        var added = await AddInputAsync(store, message, user.Id, Event("message received"), Event("queued"));
        var anyone = await AddInputAsync(store, interrupt, null, Event("interrupt received"));

        Assert.Equal((AddRunInputOutcome.Added, message), added);
        Assert.Equal((AddRunInputOutcome.Added, interrupt), anyone);
        Assert.Equal(["message received", "queued", "interrupt received"], (await store.Events.ListAsync(run.Id, 0, 100, Ct)).Select(e => e.Message));
        Time.Advance(TimeSpan.FromSeconds(2));
        var taken = await store.Sessions.TakeInputsAsync(run.Id, Now, Ct);
        Assert.Equal([message with { TakenAt = Now }, interrupt with { TakenAt = Now }], taken);
        Assert.Empty(await store.Sessions.TakeInputsAsync(run.Id, Now, Ct));
    }

    [Fact]
    public async Task Sessions_AddInput_UnknownRunOrAnotherUsersRun_NotFound_NothingStored()
    {
        var (store, user, repo) = await ArrangeAsync();
        var bob = await store.Users.AddUserAsync("bob", Now, Ct);
        var run = await CreateInteractiveRunAsync(store, user.Id, repo.Id);

        var unknown = await AddInputAsync(store, NewInput(NewId()), null, Event("message received"));
        var unknownOfUser = await AddInputAsync(store, NewInput(NewId()), user.Id, Event("message received"));
        var notBobs = await AddInputAsync(store, NewInput(run.Id, clientKey: "key-1"), bob.Id, Event("message received"));

        Assert.Equal((AddRunInputOutcome.NotFound, (RunInputRecord?)null), unknown);
        Assert.Equal((AddRunInputOutcome.NotFound, (RunInputRecord?)null), unknownOfUser);
        Assert.Equal((AddRunInputOutcome.NotFound, (RunInputRecord?)null), notBobs);
        Assert.Equal(0, await CountEventsAsync(store, run.Id));
        Assert.Empty(await store.Sessions.TakeInputsAsync(run.Id, Now, Ct));

        // Bob's attempt left no trace of its key: the owner's input with it is added.
        var owners = NewInput(run.Id, text: "another text", clientKey: "key-1");
        Assert.Equal((AddRunInputOutcome.Added, owners), await AddInputAsync(store, owners, user.Id));
    }

    [Fact]
    public async Task Sessions_AddInput_RunNotInteractive_NotInteractive_NothingStored()
    {
        var (store, user, repo) = await ArrangeAsync();
        var run = await CreateRunAsync(store, user.Id, repo.Id);
        Assert.False(run.Interactive);

        var outcome = await AddInputAsync(store, NewInput(run.Id, clientKey: "key-1"), user.Id, Event("message received"));

        Assert.Equal((AddRunInputOutcome.NotInteractive, (RunInputRecord?)null), outcome);
        Assert.Equal(0, await CountEventsAsync(store, run.Id));
        Assert.Empty(await store.Sessions.TakeInputsAsync(run.Id, Now, Ct));
        Assert.False((await store.Runs.GetRunAsync(run.Id, null, Ct))!.Interactive);
    }

    [Fact]
    public async Task Sessions_AddInput_RunEnded_Terminal_NothingStored_AnEarlierKeyStillReplays()
    {
        var (store, user, repo) = await ArrangeAsync();
        var finished = await CreateInteractiveRunAsync(store, user.Id, repo.Id);
        var cancelled = await CreateInteractiveRunAsync(store, user.Id, repo.Id);
        var sent = NewInput(finished.Id, clientKey: "key-1");
        await AddInputAsync(store, sent);
        Assert.Equal([sent with { TakenAt = Now }], await store.Sessions.TakeInputsAsync(finished.Id, Now, Ct));
        await TransitionAsync(store, finished.Id, RunStatuses.Pending, RunStatuses.Streaming);
        await TransitionAsync(store, finished.Id, RunStatuses.Streaming, RunStatuses.Success);
        await TransitionAsync(store, cancelled.Id, RunStatuses.Pending, RunStatuses.Cancelled);
        var finishedEvents = await CountEventsAsync(store, finished.Id);
        Time.Advance(TimeSpan.FromSeconds(1));

        var afterSuccess = await AddInputAsync(store, NewInput(finished.Id, clientKey: "key-2"), user.Id, Event("message received"));
        var afterCancel = await AddInputAsync(store, NewInput(cancelled.Id, kind: RunInputKinds.Finish, text: null, mode: null), null, Event("finish received"));
        var retried = await AddInputAsync(store, NewInput(finished.Id, clientKey: "key-1"), user.Id, Event("message received"));

        Assert.Equal((AddRunInputOutcome.Terminal, (RunInputRecord?)null), afterSuccess);
        Assert.Equal((AddRunInputOutcome.Terminal, (RunInputRecord?)null), afterCancel);

        // A client's retry of a message the run took before it ended gets that message back.
        Assert.Equal((AddRunInputOutcome.Replayed, sent with { TakenAt = Start }), retried);
        Assert.Equal(finishedEvents, await CountEventsAsync(store, finished.Id));
        Assert.Equal(0, await CountEventsAsync(store, cancelled.Id));
        Assert.Empty(await store.Sessions.TakeInputsAsync(finished.Id, Now, Ct));
        Assert.Empty(await store.Sessions.TakeInputsAsync(cancelled.Id, Now, Ct));
    }

    [Fact]
    public async Task Sessions_AddInput_SameKeySameInput_ReplaysTheEarlierInput_NothingAdded()
    {
        var (store, user, repo) = await ArrangeAsync();
        var run = await CreateInteractiveRunAsync(store, user.Id, repo.Id);
        var first = NewInput(run.Id, mode: "steer", clientKey: "key-1");
        await AddInputAsync(store, first, user.Id, Event("message received"));
        Time.Advance(TimeSpan.FromSeconds(1));

        // A retry carries a new id and time: the stored input is what comes back.
        var retry = NewInput(run.Id, mode: "steer", clientKey: "key-1");
        var replayed = await AddInputAsync(store, retry, user.Id, Event("message received"));

        Assert.Equal((AddRunInputOutcome.Replayed, first), replayed);
        Assert.Single(await store.Events.ListAsync(run.Id, 0, 100, Ct));
        Assert.Equal([first with { TakenAt = Now }], await store.Sessions.TakeInputsAsync(run.Id, Now, Ct));

        // A retry after the input was taken is replayed too (as taken), and not taken again.
        var takenAt = Now;
        Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal((AddRunInputOutcome.Replayed, first with { TakenAt = takenAt }), await AddInputAsync(store, retry with { Id = NewId() }, null, Event("message received")));
        Assert.Empty(await store.Sessions.TakeInputsAsync(run.Id, Now, Ct));
        Assert.Single(await store.Events.ListAsync(run.Id, 0, 100, Ct));
    }

    [Fact]
    public async Task Sessions_AddInput_SameKeyOtherInput_KeyConflict_WithTheEarlierInput()
    {
        var (store, user, repo) = await ArrangeAsync();
        var run = await CreateInteractiveRunAsync(store, user.Id, repo.Id);
        var first = NewInput(run.Id, text: "fix it", mode: "queue", clientKey: "key-1");
        await AddInputAsync(store, first, user.Id, Event("message received"));
        Time.Advance(TimeSpan.FromSeconds(1));

        var otherText = await AddInputAsync(store, NewInput(run.Id, text: "fix it!", mode: "queue", clientKey: "key-1"), user.Id, Event("message received"));
        var otherMode = await AddInputAsync(store, NewInput(run.Id, text: "fix it", mode: "steer", clientKey: "key-1"), user.Id, Event("message received"));
        var otherKind = await AddInputAsync(store, NewInput(run.Id, text: null, kind: RunInputKinds.Interrupt, mode: null, clientKey: "key-1"), user.Id, Event("interrupt received"));

        Assert.Equal((AddRunInputOutcome.KeyConflict, first), otherText);
        Assert.Equal((AddRunInputOutcome.KeyConflict, first), otherMode);
        Assert.Equal((AddRunInputOutcome.KeyConflict, first), otherKind);
        Assert.Single(await store.Events.ListAsync(run.Id, 0, 100, Ct));
        Assert.Equal([first with { TakenAt = Now }], await store.Sessions.TakeInputsAsync(run.Id, Now, Ct));
    }

    [Fact]
    public async Task Sessions_AddInput_KeyIsPerRun_AndInputsWithoutKeyAreNeverReplays()
    {
        var (store, user, repo) = await ArrangeAsync();
        var one = await CreateInteractiveRunAsync(store, user.Id, repo.Id);
        var other = await CreateInteractiveRunAsync(store, user.Id, repo.Id);
        var onOne = NewInput(one.Id, clientKey: "key-1");
        var onOther = NewInput(other.Id, clientKey: "key-1");
        var plain = NewInput(one.Id);
        var plainAgain = NewInput(one.Id);

        Assert.Equal((AddRunInputOutcome.Added, onOne), await AddInputAsync(store, onOne));
        Assert.Equal((AddRunInputOutcome.Added, onOther), await AddInputAsync(store, onOther, null, Event("message received")));
        Assert.Equal((AddRunInputOutcome.Added, plain), await AddInputAsync(store, plain));
        Assert.Equal((AddRunInputOutcome.Added, plainAgain), await AddInputAsync(store, plainAgain));

        Assert.Equal([onOne.Id, plain.Id, plainAgain.Id], (await store.Sessions.TakeInputsAsync(one.Id, Now, Ct)).Select(i => i.Id));
        Assert.Equal([onOther.Id], (await store.Sessions.TakeInputsAsync(other.Id, Now, Ct)).Select(i => i.Id));
        Assert.Equal(1, await CountEventsAsync(store, other.Id));
    }

    [Fact]
    public async Task Sessions_TakeInputs_InInsertionOrder_EachOnce_LaterInputsNextTime()
    {
        var (store, user, repo) = await ArrangeAsync();
        var run = await CreateInteractiveRunAsync(store, user.Id, repo.Id);
        var other = await CreateInteractiveRunAsync(store, user.Id, repo.Id);

        // One time and ids in descending order: only the order of insertion puts them in order.
        var inputs = Enumerable.Range(1, 5).Select(i => NewInput(run.Id, text: $"message {i}", id: $"input-{9 - i}")).ToList();
        foreach (var input in inputs)
        {
            Assert.Equal(AddRunInputOutcome.Added, (await AddInputAsync(store, input)).Outcome);
        }

        var elsewhere = NewInput(other.Id);
        await AddInputAsync(store, elsewhere);
        Time.Advance(TimeSpan.FromSeconds(1));
        var firstTake = Now;

        Assert.Equal(inputs.Select(i => i with { TakenAt = firstTake }), await store.Sessions.TakeInputsAsync(run.Id, firstTake, Ct));
        Assert.Empty(await store.Sessions.TakeInputsAsync(run.Id, Now, Ct));

        // An input stored later comes later, even with an earlier time (a node whose clock is behind) and a lower id.
        var next = NewInput(run.Id, text: "next", id: "input-01");
        var behind = NewInput(run.Id, kind: RunInputKinds.Finish, text: null, mode: null, id: "input-00") with { CreatedAt = Start.AddSeconds(-10) };
        await AddInputAsync(store, next);
        await AddInputAsync(store, behind);
        Time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal([next with { TakenAt = Now }, behind with { TakenAt = Now }], await store.Sessions.TakeInputsAsync(run.Id, Now, Ct));
        Assert.Empty(await store.Sessions.TakeInputsAsync(run.Id, Now, Ct));
        Assert.Empty(await store.Sessions.TakeInputsAsync(NewId(), Now, Ct));
        Assert.Equal([elsewhere with { TakenAt = Now }], await store.Sessions.TakeInputsAsync(other.Id, Now, Ct));
    }

    [Fact]
    public async Task Sessions_AddInput_Concurrent_AllAddedWithDistinctIds_TakenExactlyOnce()
    {
        var (store, user, repo) = await ArrangeAsync();
        var run = await CreateInteractiveRunAsync(store, user.Id, repo.Id);

        var added = await Task.WhenAll(Enumerable.Range(0, 30).Select(i => Task.Run(() =>
            AddInputAsync(store, NewInput(run.Id, text: $"message {i}", clientKey: $"key-{i}"), user.Id, Event($"message {i} received")))));

        Assert.All(added, a => Assert.Equal(AddRunInputOutcome.Added, a.Outcome));
        var ids = added.Select(a => a.Input!.Id).ToList();
        Assert.Equal(30, ids.Distinct().Count());
        var taken = await store.Sessions.TakeInputsAsync(run.Id, Now, Ct);
        Assert.Equal(ids.Order(), taken.Select(i => i.Id).Order());
        Assert.Empty(await store.Sessions.TakeInputsAsync(run.Id, Now, Ct));
        Assert.Equal(30, await CountEventsAsync(store, run.Id));

        // The events and the inputs were written in the same order (each input with its events).
        var events = await store.Events.ListAsync(run.Id, 0, 100, Ct);
        Assert.Equal(taken.Select(i => i.Text + " received"), events.Select(e => e.Message));
    }

    [Fact]
    public async Task Sessions_TakeInputs_ConcurrentTakers_EachInputTakenExactlyOnce()
    {
        var (store, user, repo) = await ArrangeAsync();
        var run = await CreateInteractiveRunAsync(store, user.Id, repo.Id);
        var ids = new List<string>();
        for (var round = 0; round < 5; round++)
        {
            var added = await Task.WhenAll(Enumerable.Range(0, 30).Select(i => Task.Run(() => AddInputAsync(store, NewInput(run.Id, text: $"round {round} message {i}")))));
            ids.AddRange(added.Select(a => a.Input!.Id));

            var takes = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(() => store.Sessions.TakeInputsAsync(run.Id, Now, Ct))));

            var taken = takes.SelectMany(t => t.Select(i => i.Id)).ToList();
            Assert.Equal(added.Select(a => a.Input!.Id).Order(), taken.Order());
        }

        Assert.Equal(150, ids.Distinct().Count());
        Assert.Empty(await store.Sessions.TakeInputsAsync(run.Id, Now, Ct));
    }

    [Fact]
    public async Task Sessions_TakeInputs_TakersRacingAdders_EachInputTakenExactlyOnce_InStoredOrder()
    {
        var (store, user, repo) = await ArrangeAsync();
        var run = await CreateInteractiveRunAsync(store, user.Id, repo.Id);
        var adding = Task.WhenAll(Enumerable.Range(0, 30).Select(i => Task.Run(() => AddInputAsync(store, NewInput(run.Id, text: $"message {i}"), null, Event($"message {i}")))));

        async Task<List<RunInputRecord>> TakeUntilAddedAsync()
        {
            var taken = new List<RunInputRecord>();
            while (true)
            {
                var done = adding.IsCompleted;
                taken.AddRange(await store.Sessions.TakeInputsAsync(run.Id, Now, Ct));
                if (done)
                {
                    return taken;
                }

                await Task.Yield();
            }
        }

        var takers = await Task.WhenAll(Task.Run(TakeUntilAddedAsync), Task.Run(TakeUntilAddedAsync));
        var added = await adding;

        Assert.All(added, a => Assert.Equal(AddRunInputOutcome.Added, a.Outcome));
        var takenIds = takers.SelectMany(t => t.Select(i => i.Id)).ToList();
        Assert.Equal(added.Select(a => a.Input!.Id).Order(), takenIds.Order());
        Assert.Empty(await store.Sessions.TakeInputsAsync(run.Id, Now, Ct));

        // Each input's event was appended with it, so the events give the order the inputs were stored in:
        // every taker got its inputs in that order.
        var stored = (await store.Events.ListAsync(run.Id, 0, 100, Ct)).Select(e => e.Message).ToList();
        Assert.Equal(30, stored.Count);
        Assert.All(takers, t => Assert.Equal(t.Select(i => i.Text).OrderBy(stored.IndexOf), t.Select(i => i.Text)));
    }

    [Fact]
    public async Task Sessions_Update_FencedOnTheLeaseOwnerOfAnActiveRun()
    {
        var (store, user, repo) = await ArrangeAsync();
        var run = await CreateClaimedInteractiveRunAsync(store, user.Id, repo.Id, "node-a");
        var unclaimed = await CreateInteractiveRunAsync(store, user.Id, repo.Id);
        Time.Advance(TimeSpan.FromSeconds(1));
        RunSessionUpdate Update(string runId, string owner) =>
            new(runId, owner, Now) { TurnsStarted = 1, AwaitingInput = true, HarnessSession = "thread-1", Events = [Event("turn started")] };

        Assert.False(await store.Sessions.UpdateAsync(Update(run.Id, "node-b"), Ct));
        Assert.False(await store.Sessions.UpdateAsync(Update(unclaimed.Id, "node-a"), Ct));
        Assert.False(await store.Sessions.UpdateAsync(Update(NewId(), "node-a"), Ct));
        Assert.Equal(run, await store.Runs.GetRunAsync(run.Id, null, Ct));
        Assert.Equal(0, await CountEventsAsync(store, run.Id));
        Assert.Equal(0, await CountEventsAsync(store, unclaimed.Id));

        // The holder's update applies, on a pending and on a streaming run.
        Assert.True(await store.Sessions.UpdateAsync(Update(run.Id, "node-a"), Ct));
        Assert.Equal(
            run with { Turns = 1, AwaitingInput = true, HarnessSession = "thread-1", UpdatedAt = Now },
            await store.Runs.GetRunAsync(run.Id, null, Ct));
        await store.Runs.TransitionAsync(new RunTransition { RunId = run.Id, From = [RunStatuses.Pending], To = RunStatuses.Streaming, At = Now, ExpectedLeaseOwner = "node-a" }, Ct);
        Assert.True(await store.Sessions.UpdateAsync(Update(run.Id, "node-a"), Ct));
        Assert.Equal(2, (await store.Runs.GetRunAsync(run.Id, null, Ct))!.Turns);
        Assert.Equal(["turn started", "turn started"], (await store.Events.ListAsync(run.Id, 0, 100, Ct)).Select(e => e.Message));

        // An ended run takes no update, from anyone.
        await store.Runs.TransitionAsync(new RunTransition { RunId = run.Id, From = [RunStatuses.Streaming], To = RunStatuses.Success, At = Now, ExpectedLeaseOwner = "node-a" }, Ct);
        var ended = await store.Runs.GetRunAsync(run.Id, null, Ct);
        Time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(await store.Sessions.UpdateAsync(Update(run.Id, "node-a"), Ct));
        Assert.Equal(ended, await store.Runs.GetRunAsync(run.Id, null, Ct));
        Assert.Equal(2, await CountEventsAsync(store, run.Id));
    }

    [Fact]
    public async Task Sessions_Update_TurnsAddUp_NullsLeaveAwaitingAndHarnessSessionAsTheyAre()
    {
        var (store, user, repo) = await ArrangeAsync();
        var run = await CreateClaimedInteractiveRunAsync(store, user.Id, repo.Id);
        Assert.Equal((0, false, (string?)null), (run.Turns, run.AwaitingInput, run.HarnessSession));

        async Task<(int Turns, bool AwaitingInput, string? HarnessSession)> ApplyAsync(RunSessionUpdate update)
        {
            Time.Advance(TimeSpan.FromSeconds(1));
            Assert.True(await store.Sessions.UpdateAsync(update with { At = Now }, Ct));
            var stored = (await store.Runs.GetRunAsync(run.Id, user.Id, Ct))!;
            Assert.Equal(Now, stored.UpdatedAt);
            return (stored.Turns, stored.AwaitingInput, stored.HarnessSession);
        }

        var update = new RunSessionUpdate(run.Id, "node-a", Now);
        Assert.Equal((1, false, "thread-1"), await ApplyAsync(update with { TurnsStarted = 1, HarnessSession = "thread-1" }));
        Assert.Equal((1, true, "thread-1"), await ApplyAsync(update with { AwaitingInput = true }));
        Assert.Equal((1, true, "thread-1"), await ApplyAsync(update));
        Assert.Equal((3, false, "thread-1"), await ApplyAsync(update with { TurnsStarted = 2, AwaitingInput = false }));
        Assert.Equal((3, false, "thread-1"), await ApplyAsync(update with { AwaitingInput = null, HarnessSession = null }));
        Assert.Equal((4, true, "thread-2"), await ApplyAsync(update with { TurnsStarted = 1, AwaitingInput = true, HarnessSession = "thread-2" }));
        Assert.Equal(0, await CountEventsAsync(store, run.Id));
    }

    [Fact]
    public async Task Sessions_AwaitingInputQuery_OnlyActiveRunsAwaitingInputWithoutAPendingApproval()
    {
        var (store, user, repo) = await ArrangeAsync();
        var bob = await store.Users.AddUserAsync("bob", Now, Ct);
        var bobRepo = await AddRepoAsync(store, bob.Id, "acme/gadget", "local:/srv/gadget");
        var awaiting = await CreateClaimedInteractiveRunAsync(store, user.Id, repo.Id);
        Time.Advance(TimeSpan.FromSeconds(1));
        var working = await CreateClaimedInteractiveRunAsync(store, user.Id, repo.Id);
        Time.Advance(TimeSpan.FromSeconds(1));
        var asking = await CreateClaimedInteractiveRunAsync(store, user.Id, repo.Id);
        Time.Advance(TimeSpan.FromSeconds(1));
        var ended = await CreateClaimedInteractiveRunAsync(store, user.Id, repo.Id);
        Time.Advance(TimeSpan.FromSeconds(1));
        var bobs = await CreateClaimedInteractiveRunAsync(store, bob.Id, bobRepo.Id);
        Time.Advance(TimeSpan.FromSeconds(1));
        await CreateRunAsync(store, user.Id, repo.Id);
        foreach (var run in new[] { awaiting, asking, ended, bobs })
        {
            Assert.True(await store.Sessions.UpdateAsync(new RunSessionUpdate(run.Id, "node-a", Now) { TurnsStarted = 1, AwaitingInput = true }, Ct));
        }

        Assert.True(await store.Sessions.UpdateAsync(new RunSessionUpdate(working.Id, "node-a", Now) { TurnsStarted = 1, AwaitingInput = false }, Ct));
        var ask = NewApproval(asking.Id);
        await store.Approvals.AddAsync(ask, [Event("approval requested")], Ct);
        await store.Runs.TransitionAsync(new RunTransition { RunId = ended.Id, From = [RunStatuses.Pending], To = RunStatuses.Success, At = Now, ExpectedLeaseOwner = "node-a" }, Ct);
        Task<IReadOnlyList<RunRecord>> ListAsync(string? userId) =>
            store.Runs.ListRunsAsync(new RunQuery(userId, null, null, 10, null) { AwaitingInput = true }, Ct);

        Assert.Equal([awaiting.Id], (await ListAsync(user.Id)).Select(r => r.Id));
        Assert.Equal([bobs.Id, awaiting.Id], (await ListAsync(null)).Select(r => r.Id));
        Assert.Equal(5, (await store.Runs.ListRunsAsync(new RunQuery(user.Id, null, null, 10, null), Ct)).Count);
        Assert.Equal([asking.Id], (await store.Runs.ListRunsAsync(new RunQuery(user.Id, null, null, 10, null) { AwaitingApproval = true }, Ct)).Select(r => r.Id));

        // The answered approval puts the run back in the list; a new one takes it out again.
        await store.Approvals.DecideAsync(Decision(asking.Id, ask.Id, ApprovalStatuses.Approved), Ct);
        Assert.Equal([asking.Id, awaiting.Id], (await ListAsync(user.Id)).Select(r => r.Id));
        await store.Approvals.AddAsync(NewApproval(awaiting.Id), [], Ct);
        Assert.Equal([asking.Id], (await ListAsync(user.Id)).Select(r => r.Id));
    }

    [Fact]
    public async Task Sessions_HostileText_RoundTripsExactly()
    {
        var (store, user, repo) = await ArrangeAsync();
        var run = await CreateClaimedInteractiveRunAsync(store, user.Id, repo.Id);
        var text = HostileText(100_000);
        var key = "key-'\"; DROP TABLE run_inputs; -- é🙂";
        var input = NewInput(run.Id, text: text, mode: "steer", clientKey: key);

        Assert.Equal((AddRunInputOutcome.Added, input), await AddInputAsync(store, input, user.Id, new NewRunEvent("message", null, text, null)));
        Assert.Equal((AddRunInputOutcome.Replayed, input), await AddInputAsync(store, input with { Id = NewId() }, user.Id));
        Assert.Equal(AddRunInputOutcome.KeyConflict, (await AddInputAsync(store, input with { Id = NewId(), Text = text + "!" }, user.Id)).Outcome);
        var taken = Assert.Single(await store.Sessions.TakeInputsAsync(run.Id, Now, Ct));
        Assert.Equal(input with { TakenAt = Now }, taken);
        Assert.Equal(100_000, taken.Text!.Length);
        Assert.Equal(text, Assert.Single(await store.Events.ListAsync(run.Id, 0, 10, Ct)).Message);

        // The harness's session id is stored text too.
        Assert.True(await store.Sessions.UpdateAsync(new RunSessionUpdate(run.Id, "node-a", Now) { HarnessSession = text }, Ct));
        Assert.Equal(text, (await store.Runs.GetRunAsync(run.Id, null, Ct))!.HarnessSession);
    }

    /// <summary>
    /// Exactly <paramref name="length"/> UTF-16 units of text a database may mishandle: quotes,
    /// backslashes, SQL, placeholders, control characters (not NUL), combining marks, right-to-left,
    /// characters outside the BMP (never split) and a BOM.
    /// </summary>
    private static string HostileText(int length)
    {
        string[] parts =
        [
            "'; DROP TABLE run_inputs; --",
            "\" OR 1=1 /* */ ",
            "`backticks` $1 @RunId :name ? %s {0} ",
            "\\ \\\\ \\' \\0 \\n ",
            "\r\n\t\u0001\u001f\u007f ",
            "e\u0301 a\u0308 ",
            "\u05e9\u05dc\u05d5\u05dd \u202e\u202c ",
            "日本語 中文 한국어 ",
            "🙂👩‍💻🏳️‍🌈𝄞 ",
            "\ufeff\u200b\u2028\u2029 ",
            "E'\\x00' $$dollar$$ $tag$quoted$tag$ ",
        ];
        var builder = new StringBuilder(length + 64);
        for (var i = 0; builder.Length < length; i++)
        {
            builder.Append(parts[i % parts.Length]).Append(i);
        }

        builder.Length = length;
        if (char.IsHighSurrogate(builder[^1]))
        {
            builder[^1] = 'z';
        }

        var text = builder.ToString();
        Assert.DoesNotContain('\0', text);
        return text;
    }

    [Fact]
    public async Task Sessions_Release_KeepsTheRunStreamingWithoutALease_ItIsClaimedAgain_ItsBranchStaysHeld()
    {
        var (store, user, repo) = await ArrangeAsync();
        var run = await CreateClaimedInteractiveRunAsync(store, user.Id, repo.Id);
        Assert.NotNull(await store.Runs.TransitionAsync(new RunTransition { RunId = run.Id, From = [RunStatuses.Pending], To = RunStatuses.Streaming, At = Now, ExpectedLeaseOwner = "node-a" }, Ct));
        var oneShot = await CreateRunOnBranchAsync(store, user.Id, repo.Id, run.WorkingBranch);

        Assert.False(await store.Sessions.ReleaseAsync(run.Id, "node-b", Now, [Event("not mine")], Ct));
        Assert.False(await store.Sessions.ReleaseAsync(oneShot.Id, "node-a", Now, [Event("not held")], Ct));
        Assert.True(await store.Sessions.ReleaseAsync(run.Id, "node-a", Now, [Event("kept open")], Ct));

        var released = (await store.Runs.GetRunAsync(run.Id, null, Ct))!;
        Assert.Equal((RunStatuses.Streaming, null), (released.Status, released.LeaseOwner));
        Assert.Contains("kept open", (await store.Events.ListAsync(run.Id, 0, 100, Ct)).Select(e => e.Message));
        Assert.DoesNotContain("not mine", (await store.Events.ListAsync(run.Id, 0, 100, Ct)).Select(e => e.Message));
        Assert.Empty(await store.Queue.ListExpiredAsync(DateTimeOffset.MaxValue, Ct));

        // Claimed again (to be resumed) before the pending run of its branch, which keeps waiting.
        var again = await store.Queue.ClaimNextAsync(new("node-c", NewId(), Now, s_lease), Ct);
        Assert.Equal((run.Id, RunStatuses.Streaming, "node-c"), (again?.Id, again?.Status, again?.LeaseOwner));
        Assert.Null(await store.Queue.ClaimNextAsync(new("node-c", NewId(), Now, s_lease), Ct));

        // Released again, then cancelled in place: the branch is free for the waiting run.
        Assert.True(await store.Sessions.ReleaseAsync(run.Id, "node-c", Now, [], Ct));
        Assert.NotNull(await store.Runs.TransitionAsync(new RunTransition { RunId = run.Id, From = [RunStatuses.Streaming], To = RunStatuses.Cancelled, OnlyIfUnclaimed = true, At = Now }, Ct));
        Assert.Equal(oneShot.Id, (await store.Queue.ClaimNextAsync(new("node-d", NewId(), Now, s_lease), Ct))?.Id);
    }

    [Fact]
    public async Task Sessions_Release_OfAOneShotRun_IsRefused()
    {
        var (store, user, repo) = await ArrangeAsync();
        var run = await CreateRunAsync(store, user.Id, repo.Id);
        var claimed = await store.Queue.ClaimNextAsync(new("node-a", NewId(), Now, s_lease), Ct);
        Assert.Equal(run.Id, claimed?.Id);
        await store.Runs.TransitionAsync(new RunTransition { RunId = run.Id, From = [RunStatuses.Pending], To = RunStatuses.Streaming, At = Now, ExpectedLeaseOwner = "node-a" }, Ct);

        Assert.False(await store.Sessions.ReleaseAsync(run.Id, "node-a", Now, [Event("kept")], Ct));
        Assert.Equal("node-a", (await store.Runs.GetRunAsync(run.Id, null, Ct))!.LeaseOwner);
    }
}
