namespace Mogplex.Storage.Tests.Conformance;

public abstract partial class StoreConformanceTests
{
    private ApprovalRecord NewApproval(string runId, string? id = null) => new()
    {
        Id = id ?? NewId(),
        RunId = runId,
        Status = ApprovalStatuses.Pending,
        Action = "run_command",
        DescriptorsJson = """["bash:git push origin main"]""",
        Target = "git push origin main",
        Risk = "high",
        ToolName = "exec_command",
        TurnId = "turn-1",
        HarnessRef = "0",
        DetailsJson = """{"command":"git push origin main","cwd":"."}""",
        CreatedAt = Now,
    };

    private ApprovalDecision Decision(string runId, string approvalId, string status, string by = "user", string? via = "alice") =>
        new(runId, approvalId, status, by, via, status == ApprovalStatuses.Rejected ? "not today" : null, Now, [Event($"decided {status}")]);

    [Fact]
    public async Task Approval_Added_IsListedPendingWithItsEvent()
    {
        var (store, user, repo) = await ArrangeAsync();
        var run = await CreateRunAsync(store, user.Id, repo.Id);
        var approval = NewApproval(run.Id);

        await store.Approvals.AddAsync(approval, [Event("approval requested")], Ct);

        Assert.Equal(approval, Assert.Single(await store.Approvals.ListAsync(run.Id, pendingOnly: true, Ct)));
        Assert.Equal(approval, await store.Approvals.GetAsync(run.Id, approval.Id, Ct));
        Assert.Null(await store.Approvals.GetAsync(NewId(), approval.Id, Ct));
        var events = await store.Events.ListAsync(run.Id, 0, 10, Ct);
        Assert.Equal("approval requested", events[^1].Message);
    }

    [Fact]
    public async Task Approval_Decided_OnceFirstAnswerWins_RepeatIsAlreadyDecided_OtherIsClosed()
    {
        var (store, user, repo) = await ArrangeAsync();
        var run = await CreateRunAsync(store, user.Id, repo.Id);
        var approval = NewApproval(run.Id);
        await store.Approvals.AddAsync(approval, [], Ct);
        Time.Advance(TimeSpan.FromSeconds(3));

        var first = await store.Approvals.DecideAsync(Decision(run.Id, approval.Id, ApprovalStatuses.Rejected), Ct);
        var again = await store.Approvals.DecideAsync(Decision(run.Id, approval.Id, ApprovalStatuses.Rejected, via: "bob"), Ct);
        var other = await store.Approvals.DecideAsync(Decision(run.Id, approval.Id, ApprovalStatuses.Approved), Ct);
        var unknown = await store.Approvals.DecideAsync(Decision(run.Id, NewId(), ApprovalStatuses.Approved), Ct);
        var otherRun = await store.Approvals.DecideAsync(Decision(NewId(), approval.Id, ApprovalStatuses.Approved), Ct);

        Assert.Equal(DecideApprovalOutcome.Decided, first.Outcome);
        var stored = approval with { Status = ApprovalStatuses.Rejected, DecidedAt = Now, DecidedBy = "user", DecidedVia = "alice", Reason = "not today" };
        Assert.Equal(stored, first.Approval);
        Assert.Equal((DecideApprovalOutcome.AlreadyDecided, stored), again);
        Assert.Equal((DecideApprovalOutcome.Closed, stored), other);
        Assert.Equal((DecideApprovalOutcome.NotFound, (ApprovalRecord?)null), unknown);
        Assert.Equal((DecideApprovalOutcome.NotFound, (ApprovalRecord?)null), otherRun);
        Assert.Empty(await store.Approvals.ListAsync(run.Id, pendingOnly: true, Ct));
        Assert.Single(await store.Approvals.ListAsync(run.Id, pendingOnly: false, Ct));
        // Only the winning decision appended its event.
        Assert.Single(await store.Events.ListAsync(run.Id, 0, 100, Ct), e => e.Message!.StartsWith("decided", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Approval_DecidedConcurrently_ExactlyOneWins()
    {
        var (store, user, repo) = await ArrangeAsync();
        var run = await CreateRunAsync(store, user.Id, repo.Id);
        var approval = NewApproval(run.Id);
        await store.Approvals.AddAsync(approval, [], Ct);

        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() =>
            store.Approvals.DecideAsync(Decision(run.Id, approval.Id, i % 2 == 0 ? ApprovalStatuses.Approved : ApprovalStatuses.Rejected, via: "node-" + i), Ct))));

        Assert.Single(answers, a => a.Outcome == DecideApprovalOutcome.Decided);
        var winner = answers.Single(a => a.Outcome == DecideApprovalOutcome.Decided).Approval!;
        Assert.All(answers, a => Assert.Equal(winner, a.Approval));
        Assert.Single(await store.Events.ListAsync(run.Id, 0, 100, Ct), e => e.Message!.StartsWith("decided", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Approval_ListedOldestFirst_PendingOnlyFilters()
    {
        var (store, user, repo) = await ArrangeAsync();
        var run = await CreateRunAsync(store, user.Id, repo.Id);
        var a = NewApproval(run.Id);
        await store.Approvals.AddAsync(a, [], Ct);
        Time.Advance(TimeSpan.FromSeconds(1));
        var b = NewApproval(run.Id);
        await store.Approvals.AddAsync(b, [], Ct);
        await store.Approvals.DecideAsync(Decision(run.Id, a.Id, ApprovalStatuses.Expired, by: "timeout", via: null), Ct);

        Assert.Equal([a.Id, b.Id], (await store.Approvals.ListAsync(run.Id, pendingOnly: false, Ct)).Select(x => x.Id));
        Assert.Equal([b.Id], (await store.Approvals.ListAsync(run.Id, pendingOnly: true, Ct)).Select(x => x.Id));
    }

    [Fact]
    public async Task Approval_Pending_RunIsListedAsAwaiting_CountedPerRun()
    {
        var (store, user, repo) = await ArrangeAsync();
        var waiting = await CreateRunAsync(store, user.Id, repo.Id);
        var answered = await CreateRunAsync(store, user.Id, repo.Id);
        var quiet = await CreateRunAsync(store, user.Id, repo.Id);
        await store.Approvals.AddAsync(NewApproval(waiting.Id), [], Ct);
        await store.Approvals.AddAsync(NewApproval(waiting.Id), [], Ct);
        var closed = NewApproval(answered.Id);
        await store.Approvals.AddAsync(closed, [], Ct);
        await store.Approvals.DecideAsync(Decision(answered.Id, closed.Id, ApprovalStatuses.Approved), Ct);

        var listed = await store.Runs.ListRunsAsync(new RunQuery(user.Id, null, null, 10, null) { AwaitingApproval = true }, Ct);
        var counts = await store.Approvals.CountPendingAsync([waiting.Id, answered.Id, quiet.Id], Ct);

        Assert.Equal([waiting.Id], listed.Select(r => r.Id));
        Assert.Equal(new Dictionary<string, int> { [waiting.Id] = 2 }, counts);
        Assert.Empty(await store.Approvals.CountPendingAsync([], Ct));
        Assert.Equal(3, (await store.Runs.ListRunsAsync(new RunQuery(user.Id, null, null, 10, null), Ct)).Count);
    }
}
