using Mogplex.Contracts.Runs;

namespace Mogplex.Storage.Tests.Conformance;

/// <summary>
/// The providers map run rows by hand (by column position, no reflection): a run with every field
/// set must read back equal through every read, so a column left out of the mapping, or read into
/// the wrong field, fails here.
/// </summary>
public abstract partial class StoreConformanceTests
{
    [Fact]
    public async Task RunRows_EveryFieldSet_ReadBackEqualThroughEveryRead()
    {
        var (store, user, repo) = await ArrangeAsync();
        var created = Start;
        var run = NewRun(user.Id, repo.Id, created) with
        {
            ConversationId = "conv-1",
            WorkspaceSessionId = "ws-1",
            Mode = "plan",
            Prompt = "Fix the build, then the tests",
            PermissionMode = "approval",
            PermissionsJson = """{"allow":["bash:git *"]}""",
            Model = "gpt-5.5-mini",
            Interactive = true,
        };
        await store.Runs.CreateRunAsync(CreateCommand(run, "key-1"), Ct);
        Time.Advance(TimeSpan.FromSeconds(1));
        var claimedAt = Now;
        await store.Queue.ClaimNextAsync(new RunClaim("node-a", "exec-1", claimedAt, TimeSpan.FromMinutes(5)), Ct);
        Time.Advance(TimeSpan.FromSeconds(1));
        var startedAt = Now;
        await store.Runs.TransitionAsync(new RunTransition
        {
            RunId = run.Id,
            From = [RunStatuses.Pending],
            To = RunStatuses.Streaming,
            At = startedAt,
            ExpectedLeaseOwner = "node-a",
            SandboxRecordId = "sbr-1",
            SandboxId = "sbx-1",
            Error = "a warning kept as the error",
            Commit = "abc123",
        }, Ct);
        await store.Queue.AddUsageAsync(run.Id, new UsageDelta(1200, 300, 45, 0.125m), Ct);
        Time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(await store.Sessions.UpdateAsync(
            new RunSessionUpdate(run.Id, "node-a", Now) { TurnsStarted = 2, AwaitingInput = true, HarnessSession = "thread-1", StartCommit = "0123456789abcdef0123456789abcdef01234567" },
            Ct));
        Time.Advance(TimeSpan.FromSeconds(1));
        var cancelAt = Now;
        await store.Runs.RequestCancelAsync(run.Id, user.Id, Event("cancel requested"), cancelAt, Ct);

        var expected = new RunRecord
        {
            Id = run.Id,
            UserId = user.Id,
            RepoId = repo.Id,
            AiCallId = run.AiCallId,
            Harness = run.Harness,
            Status = RunStatuses.Streaming,
            BaseBranch = run.BaseBranch,
            WorkingBranch = run.WorkingBranch,
            CreateBranch = true,
            RootDirectory = run.RootDirectory,
            Prompt = "Fix the build, then the tests",
            PermissionMode = "approval",
            PermissionsJson = """{"allow":["bash:git *"]}""",
            Model = "gpt-5.5-mini",
            Interactive = true,
            Turns = 2,
            AwaitingInput = true,
            HarnessSession = "thread-1",
            StartCommit = "0123456789abcdef0123456789abcdef01234567",
            ConversationId = "conv-1",
            WorkspaceSessionId = "ws-1",
            Mode = "plan",
            SandboxRecordId = "sbr-1",
            SandboxId = "sbx-1",
            Error = "a warning kept as the error",
            RuntimeRunId = "exec-1",
            InputTokens = 1200,
            CachedInputTokens = 300,
            OutputTokens = 45,
            CostUsd = 0.125m,
            Commit = "abc123",
            CreatedAt = created,
            UpdatedAt = cancelAt,
            StartedAt = startedAt,
            FinishedAt = null,
            CancelRequestedAt = cancelAt,
            LeaseOwner = "node-a",
            LeaseExpiresAt = claimedAt.AddMinutes(5),
        };

        // A terminal run holds no lease, so FinishedAt is checked on the finished run below.
        AssertEveryFieldSet(expected, except: nameof(RunRecord.FinishedAt));
        Assert.Equal(expected, await store.Runs.GetRunAsync(run.Id, user.Id, Ct));
        Assert.Equal(expected, await store.Runs.GetRunAsync(run.Id, null, Ct));
        Assert.Equal(expected, Assert.Single(await store.Runs.ListRunsAsync(new RunQuery(user.Id, null, null, 10, null), Ct)));
        Assert.Equal(expected, Assert.Single(await store.Runs.ListRunsAsync(new RunQuery(user.Id, null, null, 10, null) { AwaitingInput = true }, Ct)));
        Assert.Equal(expected, Assert.Single(await store.Queue.ListHeldByAsync("node-a", Ct)));
        Assert.Equal(expected, Assert.Single(await store.Queue.ListExpiredAsync(claimedAt.AddMinutes(6), Ct)));
        Assert.Equal(expected, (await store.Runs.RequestCancelAsync(run.Id, user.Id, Event("cancel requested"), Now, Ct)).Run);

        Time.Advance(TimeSpan.FromSeconds(1));
        var finished = await store.Runs.TransitionAsync(new RunTransition
        {
            RunId = run.Id,
            From = [RunStatuses.Streaming],
            To = RunStatuses.Cancelled,
            At = Now,
            ExpectedLeaseOwner = "node-a",
        }, Ct);

        var expectedFinished = expected with
        {
            Status = RunStatuses.Cancelled,
            UpdatedAt = Now,
            FinishedAt = Now,
            LeaseOwner = null,
            LeaseExpiresAt = null,
        };
        Assert.NotNull(expectedFinished.FinishedAt);
        Assert.Equal(expectedFinished, finished);
        Assert.Equal(expectedFinished, await store.Runs.GetRunAsync(run.Id, user.Id, Ct));
    }

    [Fact]
    public async Task RunRows_CreateBranchFalseAndNullsUnset_ReadBackEqual()
    {
        var (store, user, repo) = await ArrangeAsync();
        var run = NewRun(user.Id, repo.Id, Now) with { CreateBranch = false };

        var created = Assert.IsType<CreateRunResult.Created>(await store.Runs.CreateRunAsync(CreateCommand(run, "key-1"), Ct)).Run;

        Assert.Equal(run, created);
        Assert.Equal(run, await store.Runs.GetRunAsync(run.Id, user.Id, Ct));
        Assert.Equal(run, Assert.IsType<CreateRunResult.Replayed>(await store.Runs.CreateRunAsync(CreateCommand(run, "key-1"), Ct)).Run);
    }

    /// <summary>Fails when a field of <see cref="RunRecord"/> has no value in <paramref name="run"/>: a field added later must be set by the test above too.</summary>
    private static void AssertEveryFieldSet(RunRecord run, string except)
    {
        foreach (var property in typeof(RunRecord).GetProperties())
        {
            if (property.Name == except || !property.CanRead || property.GetIndexParameters().Length > 0)
            {
                continue;
            }

            var value = property.GetValue(run);
            var unset = value is null || (property.PropertyType.IsValueType && value.Equals(Activator.CreateInstance(property.PropertyType)));
            Assert.False(unset, $"RunRecord.{property.Name} is not set in the every-field run");
        }
    }
}
