namespace Mogplex.Storage.Tests.Conformance;

public abstract partial class StoreConformanceTests
{
    [Fact]
    public async Task AppendEvents_Batches_KeepOrderWithGapFreeSeq()
    {
        var (store, user, repo) = await ArrangeAsync();
        var run = await CreateRunAsync(store, user.Id, repo.Id);

        var first = await store.Events.AppendAsync(run.Id, Events("a", 3), Now, Ct);
        Time.Advance(TimeSpan.FromSeconds(1));
        var second = await store.Events.AppendAsync(run.Id, Events("b", 2), Now, Ct);

        Assert.Equal([1L, 2L, 3L], first.Select(e => e.Seq));
        Assert.Equal([4L, 5L], second.Select(e => e.Seq));
        var stored = await store.Events.ListAsync(run.Id, 0, 100, Ct);
        Assert.Equal([.. first, .. second], stored);
        Assert.Equal(["a1", "a2", "a3", "b1", "b2"], stored.Select(e => e.Message));
        Assert.Equal(Start.AddSeconds(1), stored[^1].CreatedAt);
        Assert.Equal(5, stored.Select(e => e.Id).Distinct().Count());
    }

    [Fact]
    public async Task AppendEvents_AllFields_Roundtrip()
    {
        var (store, user, repo) = await ArrangeAsync();
        var run = await CreateRunAsync(store, user.Id, repo.Id);

        var appended = await store.Events.AppendAsync(
            run.Id,
            [new NewRunEvent("tool_call", "bash", "ran ls", """{"exitCode":0}"""), new NewRunEvent("thinking", null, null, null)],
            Now,
            Ct);

        var stored = await store.Events.ListAsync(run.Id, 0, 100, Ct);
        Assert.Equal(appended, stored);
        Assert.Equal(new RunEventRecord(appended[0].Id, run.Id, 1, "tool_call", "bash", "ran ls", """{"exitCode":0}""", Start), stored[0]);
        Assert.Equal(new RunEventRecord(appended[1].Id, run.Id, 2, "thinking", null, null, null, Start), stored[1]);
    }

    [Fact]
    public async Task AppendEvents_EmptyBatch_ReturnsEmptyAndUsesNoSeq()
    {
        var (store, user, repo) = await ArrangeAsync();
        var run = await CreateRunAsync(store, user.Id, repo.Id);

        Assert.Empty(await store.Events.AppendAsync(run.Id, [], Now, Ct));
        var next = await store.Events.AppendAsync(run.Id, [Event("x")], Now, Ct);

        Assert.Equal(1L, Assert.Single(next).Seq);
    }

    [Fact]
    public async Task AppendEvents_SeqIsPerRun()
    {
        var (store, user, repo) = await ArrangeAsync();
        var runA = await CreateRunAsync(store, user.Id, repo.Id);
        var runB = await CreateRunAsync(store, user.Id, repo.Id);

        await store.Events.AppendAsync(runA.Id, Events("a", 3), Now, Ct);
        var b = await store.Events.AppendAsync(runB.Id, Events("b", 2), Now, Ct);

        Assert.Equal([1L, 2L], b.Select(e => e.Seq));
        Assert.Equal(["a1", "a2", "a3"], (await store.Events.ListAsync(runA.Id, 0, 100, Ct)).Select(e => e.Message));
    }

    [Fact]
    public async Task AppendEvents_EightConcurrentWriters_SeqOneToEightHundredNoDuplicates()
    {
        var (store, user, repo) = await ArrangeAsync();
        var run = await CreateRunAsync(store, user.Id, repo.Id);
        var now = Now;

        await Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 100; i++)
            {
                await store.Events.AppendAsync(run.Id, [Event($"w{w}-{i}")], now, Ct);
            }
        }, Ct)));

        var stored = await store.Events.ListAsync(run.Id, 0, 1000, Ct);
        Assert.Equal(Enumerable.Range(1, 800).Select(i => (long)i), stored.Select(e => e.Seq));
        Assert.Equal(800, stored.Select(e => e.Message).Distinct().Count());
        Assert.Equal(800, stored.Select(e => e.Id).Distinct().Count());
        // Each writer's own events keep its order.
        for (var w = 0; w < 8; w++)
        {
            var prefix = $"w{w}-";
            Assert.Equal(
                Enumerable.Range(0, 100).Select(i => prefix + i),
                stored.Where(e => e.Message!.StartsWith(prefix, StringComparison.Ordinal)).Select(e => e.Message));
        }
    }

    [Fact]
    public async Task AppendEvents_ConcurrentBatches_EachBatchContiguous()
    {
        var (store, user, repo) = await ArrangeAsync();
        var run = await CreateRunAsync(store, user.Id, repo.Id);
        var now = Now;

        var batches = await Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(
            () => store.Events.AppendAsync(run.Id, Events($"w{w}-", 25), now, Ct), Ct)));

        Assert.All(batches, b => Assert.Equal(Enumerable.Range(0, 25).Select(i => b[0].Seq + i), b.Select(e => e.Seq)));
        Assert.Equal(Enumerable.Range(1, 200).Select(i => (long)i), batches.SelectMany(b => b).Select(e => e.Seq).Order());
    }

    [Fact]
    public async Task ListEvents_AfterAndLimit_ReturnsWindowOldestFirst()
    {
        var (store, user, repo) = await ArrangeAsync();
        var run = await CreateRunAsync(store, user.Id, repo.Id);
        await store.Events.AppendAsync(run.Id, Events("e", 10), Now, Ct);

        var window = await store.Events.ListAsync(run.Id, 3, 4, Ct);
        var tail = await store.Events.ListAsync(run.Id, 8, 100, Ct);
        var beyond = await store.Events.ListAsync(run.Id, 10, 100, Ct);

        Assert.Equal([4L, 5L, 6L, 7L], window.Select(e => e.Seq));
        Assert.Equal(["e4", "e5", "e6", "e7"], window.Select(e => e.Message));
        Assert.Equal([9L, 10L], tail.Select(e => e.Seq));
        Assert.Empty(beyond);
    }

    [Fact]
    public async Task ListEvents_UnknownRun_Empty()
    {
        var store = await CreateStoreAsync();

        Assert.Empty(await store.Events.ListAsync(NewId(), 0, 100, Ct));
    }

    [Fact]
    public async Task FindSeq_OwnEvent_ReturnsItsSeq()
    {
        var (store, user, repo) = await ArrangeAsync();
        var run = await CreateRunAsync(store, user.Id, repo.Id);
        var appended = await store.Events.AppendAsync(run.Id, Events("e", 3), Now, Ct);

        Assert.Equal(2L, await store.Events.FindSeqAsync(run.Id, appended[1].Id, Ct));
        Assert.Equal(3L, await store.Events.FindSeqAsync(run.Id, appended[2].Id, Ct));
    }

    [Fact]
    public async Task FindSeq_OtherRunsEventOrUnknownId_ReturnsNull()
    {
        var (store, user, repo) = await ArrangeAsync();
        var runA = await CreateRunAsync(store, user.Id, repo.Id);
        var runB = await CreateRunAsync(store, user.Id, repo.Id);
        await store.Events.AppendAsync(runA.Id, Events("a", 2), Now, Ct);
        var bEvents = await store.Events.AppendAsync(runB.Id, Events("b", 2), Now, Ct);

        Assert.Null(await store.Events.FindSeqAsync(runA.Id, bEvents[0].Id, Ct));
        Assert.Null(await store.Events.FindSeqAsync(runA.Id, NewId(), Ct));
    }
}
