using Mogplex.Contracts.Runs;

namespace Mogplex.Storage.Tests.Conformance;

public abstract partial class StoreConformanceTests
{
    private static SandboxRecord NewSandbox(string userId, string repoId, DateTimeOffset at, string workingBranch = "mogplex/fix", string root = ".") => new()
    {
        Id = NewId(),
        UserId = userId,
        RepoId = repoId,
        Status = "creating",
        BaseBranch = "main",
        WorkingBranch = workingBranch,
        RootDirectory = root,
        NodeId = "node-a",
        Path = "/var/lib/mogplex/sandboxes/x",
        CreatedAt = at,
        LastActiveAt = at,
    };

    private static SandboxLifecycleRecord Lifecycle(string sandboxId, string eventType, DateTimeOffset at, string? decision = null) =>
        new(NewId(), sandboxId, eventType, decision, null, null, at);

    private async Task<SandboxRecord> CreateSandboxAsync(IMogplexStore store, SandboxRecord candidate)
    {
        var (sandbox, reused) = await store.Sandboxes.CreateOrReuseAsync(candidate, Lifecycle(candidate.Id, "requested", candidate.CreatedAt, "created"), Ct);
        Assert.False(reused);
        return sandbox;
    }

    private Task<(StopSandboxOutcome Outcome, SandboxRecord? Sandbox)> StopSandboxAsync(IMogplexStore store, string id, string? userId) =>
        store.Sandboxes.StopAsync(id, userId, Lifecycle(id, "stopped", Now, "user_stop"), Ct);

    [Fact]
    public async Task CreateOrReuse_NoActiveSandbox_InsertsCandidateWithCreatedEvent()
    {
        var (store, user, repo) = await ArrangeAsync();
        var candidate = NewSandbox(user.Id, repo.Id, Now);
        var created = Lifecycle(candidate.Id, "requested", Now, "created");

        var (sandbox, reused) = await store.Sandboxes.CreateOrReuseAsync(candidate, created, Ct);

        Assert.False(reused);
        Assert.Equal(candidate, sandbox);
        Assert.Equal(candidate, await store.Sandboxes.GetAsync(candidate.Id, user.Id, Ct));
        Assert.Equal([created], await store.Sandboxes.ListLifecycleAsync(candidate.Id, Ct));
    }

    [Fact]
    public async Task CreateOrReuse_ActiveSameKey_ReusesExistingWithoutNewRecord()
    {
        var (store, user, repo) = await ArrangeAsync();
        var first = await CreateSandboxAsync(store, NewSandbox(user.Id, repo.Id, Now));
        Time.Advance(TimeSpan.FromMinutes(1));
        var candidate = NewSandbox(user.Id, repo.Id, Now);

        var (sandbox, reused) = await store.Sandboxes.CreateOrReuseAsync(candidate, Lifecycle(candidate.Id, "requested", Now), Ct);

        Assert.True(reused);
        Assert.Equal(first, sandbox);
        Assert.Null(await store.Sandboxes.GetAsync(candidate.Id, null, Ct));
        Assert.Empty(await store.Sandboxes.ListLifecycleAsync(candidate.Id, Ct));
        Assert.Single(await store.Sandboxes.ListAsync(new SandboxQuery(null, null, null, 100), Ct));
    }

    [Fact]
    public async Task CreateOrReuse_ActiveSandboxInAnyActiveStatus_IsReused()
    {
        var (store, user, repo) = await ArrangeAsync();
        var first = await CreateSandboxAsync(store, NewSandbox(user.Id, repo.Id, Now));
        foreach (var status in new[] { "installing", "running", "pausing", "paused" })
        {
            await store.Sandboxes.UpdateAsync(new SandboxUpdate { Id = first.Id, Status = status, At = Now }, Ct);
            var candidate = NewSandbox(user.Id, repo.Id, Now);

            var (sandbox, reused) = await store.Sandboxes.CreateOrReuseAsync(candidate, Lifecycle(candidate.Id, "requested", Now), Ct);

            Assert.True(reused, status);
            Assert.Equal(first.Id, sandbox.Id);
            Assert.Equal(status, sandbox.Status);
        }
    }

    [Fact]
    public async Task CreateOrReuse_DifferentBranchRootRepoOrUser_CreatesSeparateSandboxes()
    {
        var (store, alice, repo) = await ArrangeAsync();
        var otherRepo = await AddRepoAsync(store, alice.Id, "acme/other");
        var bob = await store.Users.AddUserAsync("bob", Now, Ct);
        var first = await CreateSandboxAsync(store, NewSandbox(alice.Id, repo.Id, Now));

        var candidates = new[]
        {
            NewSandbox(alice.Id, repo.Id, Now, workingBranch: "mogplex/other"),
            NewSandbox(alice.Id, repo.Id, Now, root: "apps/web"),
            NewSandbox(alice.Id, otherRepo.Id, Now),
            NewSandbox(bob.Id, repo.Id, Now),
        };
        foreach (var candidate in candidates)
        {
            var (sandbox, reused) = await store.Sandboxes.CreateOrReuseAsync(candidate, Lifecycle(candidate.Id, "requested", Now), Ct);
            Assert.False(reused);
            Assert.Equal(candidate.Id, sandbox.Id);
        }

        Assert.Equal(5, (await store.Sandboxes.ListAsync(new SandboxQuery(null, null, null, 100), Ct)).Count);
        Assert.Equal(first, await store.Sandboxes.GetAsync(first.Id, null, Ct));
    }

    [Fact]
    public async Task CreateOrReuse_AfterStop_CreatesNewSandbox()
    {
        var (store, user, repo) = await ArrangeAsync();
        var first = await CreateSandboxAsync(store, NewSandbox(user.Id, repo.Id, Now));
        Assert.Equal(StopSandboxOutcome.Stopped, (await StopSandboxAsync(store, first.Id, user.Id)).Outcome);
        var candidate = NewSandbox(user.Id, repo.Id, Now);

        var (sandbox, reused) = await store.Sandboxes.CreateOrReuseAsync(candidate, Lifecycle(candidate.Id, "requested", Now), Ct);

        Assert.False(reused);
        Assert.Equal(candidate.Id, sandbox.Id);
        Assert.Equal("stopped", (await store.Sandboxes.GetAsync(first.Id, null, Ct))!.Status);
    }

    [Fact]
    public async Task CreateOrReuse_ConcurrentSameKey_OneRecord()
    {
        var (store, user, repo) = await ArrangeAsync();
        var now = Now;

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(() =>
        {
            var candidate = NewSandbox(user.Id, repo.Id, now);
            return store.Sandboxes.CreateOrReuseAsync(candidate, Lifecycle(candidate.Id, "requested", now), Ct);
        }, Ct)));

        var winner = Assert.Single(results, r => !r.Reused).Sandbox;
        Assert.All(results, r => Assert.Equal(winner.Id, r.Sandbox.Id));
        Assert.Equal([winner.Id], (await store.Sandboxes.ListAsync(new SandboxQuery(null, null, null, 100), Ct)).Select(s => s.Id));
        Assert.Single(await store.Sandboxes.ListLifecycleAsync(winner.Id, Ct));
    }

    [Fact]
    public async Task GetSandbox_OwnerFilter_OtherUserGetsNull()
    {
        var (store, user, repo) = await ArrangeAsync();
        var bob = await store.Users.AddUserAsync("bob", Now, Ct);
        var sandbox = await CreateSandboxAsync(store, NewSandbox(user.Id, repo.Id, Now));

        Assert.Equal(sandbox, await store.Sandboxes.GetAsync(sandbox.Id, user.Id, Ct));
        Assert.Equal(sandbox, await store.Sandboxes.GetAsync(sandbox.Id, null, Ct));
        Assert.Null(await store.Sandboxes.GetAsync(sandbox.Id, bob.Id, Ct));
        Assert.Null(await store.Sandboxes.GetAsync(NewId(), null, Ct));
    }

    [Fact]
    public async Task ListSandboxes_Filters_NewestActivityFirst()
    {
        var (store, alice, repo) = await ArrangeAsync();
        var otherRepo = await AddRepoAsync(store, alice.Id, "acme/other");
        var bob = await store.Users.AddUserAsync("bob", Now, Ct);
        var a = await CreateSandboxAsync(store, NewSandbox(alice.Id, repo.Id, Start));
        var b = await CreateSandboxAsync(store, NewSandbox(alice.Id, otherRepo.Id, Start.AddMinutes(1)));
        var c = await CreateSandboxAsync(store, NewSandbox(bob.Id, repo.Id, Start.AddMinutes(2)));
        await store.Sandboxes.UpdateAsync(new SandboxUpdate { Id = a.Id, Status = "running", At = Start.AddMinutes(3) }, Ct);

        async Task<IEnumerable<string>> Ids(SandboxQuery q) => (await store.Sandboxes.ListAsync(q, Ct)).Select(s => s.Id);

        Assert.Equal([a.Id, c.Id, b.Id], await Ids(new SandboxQuery(null, null, null, 100)));
        Assert.Equal([a.Id, b.Id], await Ids(new SandboxQuery(alice.Id, null, null, 100)));
        Assert.Equal([a.Id, c.Id], await Ids(new SandboxQuery(null, repo.Id, null, 100)));
        Assert.Equal([c.Id, b.Id], await Ids(new SandboxQuery(null, null, "creating", 100)));
        Assert.Equal([a.Id], await Ids(new SandboxQuery(null, null, null, 1)));
    }

    [Fact]
    public async Task UpdateSandbox_Active_ChangesStatusFieldsAndAppendsLifecycle()
    {
        var (store, user, repo) = await ArrangeAsync();
        var sandbox = await CreateSandboxAsync(store, NewSandbox(user.Id, repo.Id, Now));
        Time.Advance(TimeSpan.FromSeconds(30));

        var updated = await store.Sandboxes.UpdateAsync(new SandboxUpdate
        {
            Id = sandbox.Id,
            Status = "installing",
            At = Now,
            SandboxId = "sbx-42",
            InstallLog = "npm ci",
            Lifecycle = Lifecycle(sandbox.Id, "installing", Now),
        }, Ct);

        Assert.NotNull(updated);
        Assert.Equal(sandbox with { Status = "installing", SandboxId = "sbx-42", InstallLog = "npm ci", LastActiveAt = Start.AddSeconds(30) }, updated);
        Assert.Equal(updated, await store.Sandboxes.GetAsync(sandbox.Id, null, Ct));
    }

    [Fact]
    public async Task UpdateSandbox_NullFields_KeepColumns()
    {
        var (store, user, repo) = await ArrangeAsync();
        var sandbox = await CreateSandboxAsync(store, NewSandbox(user.Id, repo.Id, Now));
        await store.Sandboxes.UpdateAsync(new SandboxUpdate { Id = sandbox.Id, Status = "installing", At = Now, SandboxId = "sbx-42", Error = "warn", InstallLog = "log" }, Ct);

        var updated = await store.Sandboxes.UpdateAsync(new SandboxUpdate { Id = sandbox.Id, Status = "running", At = Now }, Ct);

        Assert.Equal("running", updated!.Status);
        Assert.Equal("sbx-42", updated.SandboxId);
        Assert.Equal("warn", updated.Error);
        Assert.Equal("log", updated.InstallLog);
        Assert.Equal("node-a", updated.NodeId);
        Assert.Equal("/var/lib/mogplex/sandboxes/x", updated.Path);
    }

    [Fact]
    public async Task UpdateSandbox_Stopped_ReturnsNullAndChangesNothing()
    {
        var (store, user, repo) = await ArrangeAsync();
        var sandbox = await CreateSandboxAsync(store, NewSandbox(user.Id, repo.Id, Now));
        var (_, stopped) = await StopSandboxAsync(store, sandbox.Id, null);
        Time.Advance(TimeSpan.FromMinutes(1));

        var result = await store.Sandboxes.UpdateAsync(new SandboxUpdate
        {
            Id = sandbox.Id,
            Status = "running",
            At = Now,
            Error = "late",
            Lifecycle = Lifecycle(sandbox.Id, "running", Now),
        }, Ct);

        Assert.Null(result);
        Assert.Equal(stopped, await store.Sandboxes.GetAsync(sandbox.Id, null, Ct));
        Assert.Equal(["requested", "stopped"], (await store.Sandboxes.ListLifecycleAsync(sandbox.Id, Ct)).Select(e => e.EventType));
    }

    [Fact]
    public async Task UpdateSandbox_Unknown_ReturnsNull()
    {
        var store = await CreateStoreAsync();

        Assert.Null(await store.Sandboxes.UpdateAsync(new SandboxUpdate { Id = NewId(), Status = "running", At = Now }, Ct));
    }

    [Fact]
    public async Task StopSandbox_Active_StoppedThenAlreadyStopped()
    {
        var (store, user, repo) = await ArrangeAsync();
        var sandbox = await CreateSandboxAsync(store, NewSandbox(user.Id, repo.Id, Now));
        Time.Advance(TimeSpan.FromMinutes(2));

        var (outcome, stopped) = await StopSandboxAsync(store, sandbox.Id, user.Id);
        Time.Advance(TimeSpan.FromMinutes(2));
        var (again, stillStopped) = await StopSandboxAsync(store, sandbox.Id, user.Id);

        Assert.Equal(StopSandboxOutcome.Stopped, outcome);
        Assert.Equal(sandbox with { Status = "stopped", LastActiveAt = Start.AddMinutes(2) }, stopped);
        Assert.Equal(StopSandboxOutcome.AlreadyStopped, again);
        Assert.Equal(stopped, stillStopped);
        Assert.Single(await store.Sandboxes.ListLifecycleAsync(sandbox.Id, Ct), e => e.EventType == "stopped");
    }

    [Fact]
    public async Task StopSandbox_UnknownOrOtherUser_NotFoundAndNotStopped()
    {
        var (store, user, repo) = await ArrangeAsync();
        var bob = await store.Users.AddUserAsync("bob", Now, Ct);
        var sandbox = await CreateSandboxAsync(store, NewSandbox(user.Id, repo.Id, Now));

        var (unknown, unknownSandbox) = await StopSandboxAsync(store, NewId(), null);
        var (forBob, bobSandbox) = await StopSandboxAsync(store, sandbox.Id, bob.Id);

        Assert.Equal(StopSandboxOutcome.NotFound, unknown);
        Assert.Null(unknownSandbox);
        Assert.Equal(StopSandboxOutcome.NotFound, forBob);
        Assert.Null(bobSandbox);
        Assert.Equal(sandbox, await store.Sandboxes.GetAsync(sandbox.Id, null, Ct));
    }

    [Fact]
    public async Task StopSandbox_UsedByStreamingRun_InUseUntilRunFinishes()
    {
        var (store, user, repo) = await ArrangeAsync();
        var sandbox = await CreateSandboxAsync(store, NewSandbox(user.Id, repo.Id, Now));
        var run = await CreateRunAsync(store, user.Id, repo.Id);
        var streaming = await store.Runs.TransitionAsync(new RunTransition
        {
            RunId = run.Id,
            From = [RunStatuses.Pending],
            To = RunStatuses.Streaming,
            At = Now,
            SandboxRecordId = sandbox.Id,
        }, Ct);
        Assert.Equal(sandbox.Id, streaming!.SandboxRecordId);

        var (busy, busySandbox) = await StopSandboxAsync(store, sandbox.Id, user.Id);

        Assert.Equal(StopSandboxOutcome.InUse, busy);
        Assert.Equal(sandbox, busySandbox);
        Assert.Equal(sandbox, await store.Sandboxes.GetAsync(sandbox.Id, null, Ct));
        Assert.DoesNotContain(await store.Sandboxes.ListLifecycleAsync(sandbox.Id, Ct), e => e.EventType == "stopped");

        await TransitionAsync(store, run.Id, RunStatuses.Streaming, RunStatuses.Success);
        var (outcome, _) = await StopSandboxAsync(store, sandbox.Id, user.Id);

        Assert.Equal(StopSandboxOutcome.Stopped, outcome);
    }

    [Fact]
    public async Task ListLifecycle_SeveralSteps_InOrder()
    {
        var (store, user, repo) = await ArrangeAsync();
        var sandbox = await CreateSandboxAsync(store, NewSandbox(user.Id, repo.Id, Now));
        var steps = new List<SandboxLifecycleRecord>();
        foreach (var status in new[] { "installing", "running", "pausing", "paused" })
        {
            Time.Advance(TimeSpan.FromSeconds(1));
            var step = new SandboxLifecycleRecord(NewId(), sandbox.Id, status, "decided-" + status, NewId(), $$"""{"status":"{{status}}"}""", Now);
            steps.Add(step);
            await store.Sandboxes.UpdateAsync(new SandboxUpdate { Id = sandbox.Id, Status = status, At = Now, Lifecycle = step }, Ct);
        }

        // Two steps in the same millisecond still list in insertion order.
        var sameTimeA = Lifecycle(sandbox.Id, "running", Now);
        var sameTimeB = Lifecycle(sandbox.Id, "activity", Now);
        await store.Sandboxes.UpdateAsync(new SandboxUpdate { Id = sandbox.Id, Status = "running", At = Now, Lifecycle = sameTimeA }, Ct);
        await store.Sandboxes.UpdateAsync(new SandboxUpdate { Id = sandbox.Id, Status = "running", At = Now, Lifecycle = sameTimeB }, Ct);
        Time.Advance(TimeSpan.FromSeconds(1));
        await StopSandboxAsync(store, sandbox.Id, null);

        var lifecycle = await store.Sandboxes.ListLifecycleAsync(sandbox.Id, Ct);

        Assert.Equal(
            ["requested", "installing", "running", "pausing", "paused", "running", "activity", "stopped"],
            lifecycle.Select(e => e.EventType));
        Assert.Equal(steps, lifecycle.Skip(1).Take(4));
        Assert.Equal(Start.AddSeconds(5), lifecycle[^1].CreatedAt);
    }
}
