using System.Net;
using System.Text.Json;
using Mogplex.Contracts.Runs;
using Mogplex.Server.Tests.Infrastructure;
using Mogplex.Storage;

namespace Mogplex.Server.Tests.Endpoints;

/// <summary><c>GET /runs/{id}</c>, [beyond] <c>GET /runs</c> and <c>GET /runs/{id}/events</c>.</summary>
public sealed class RunsEndpointTests
{
    private static readonly string[] s_detailFields =
    [
        "runId", "aiCallId", "sandboxRecordId", "sandboxId", "repoId", "harness", "status", "branch", "rootDirectory",
        "eventsUrl", "cancelUrl", "createdAt", "updatedAt", "error", "runtime", "usage", "startedAt", "finishedAt", "commit",
        "permissionMode", "awaiting", "pendingApprovals", "interactive", "turns", "queue",
    ];

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task GetRun_Pending_EveryFieldOfTheDetail()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync(rootDirectory: "svc");
        server.Time.Advance(TimeSpan.FromMilliseconds(1234));
        var started = ApiAssert.Ok(
            await ApiClient.StartRunAsync(client, new { repoId = repo, prompt = "x", harness = "claude-code", workingBranch = "feat/y", createBranch = true }),
            HttpStatusCode.Accepted);
        ApiAssert.HasExactly(started, [.. s_detailFields, "replayed"]);
        var id = started.GetProperty("runId").GetString()!;

        var data = ApiAssert.Ok(await ApiClient.GetAsync(client, $"/runs/{id}"));

        ApiAssert.HasExactly(data, "run");
        var run = data.GetProperty("run");
        ApiAssert.HasExactly(run, s_detailFields);
        Assert.True(Guid.TryParseExact(id, "D", out _));
        Assert.True(Guid.TryParseExact(run.GetProperty("aiCallId").GetString(), "D", out _));
        Assert.Equal(JsonValueKind.Null, run.GetProperty("sandboxRecordId").ValueKind);
        Assert.Equal(JsonValueKind.Null, run.GetProperty("sandboxId").ValueKind);
        Assert.Equal(repo, run.GetProperty("repoId").GetString());
        Assert.Equal("claude-code", run.GetProperty("harness").GetString());
        Assert.Equal("pending", run.GetProperty("status").GetString());
        ApiAssert.HasExactly(run.GetProperty("branch"), "base", "working", "createBranch");
        Assert.Equal("main", run.GetProperty("branch").GetProperty("base").GetString());
        Assert.Equal("feat/y", run.GetProperty("branch").GetProperty("working").GetString());
        Assert.True(run.GetProperty("branch").GetProperty("createBranch").GetBoolean());
        Assert.Equal("svc", run.GetProperty("rootDirectory").GetString());
        Assert.Equal($"/api/v1/mogplex/runs/{id}/events", run.GetProperty("eventsUrl").GetString());
        Assert.Equal($"/api/v1/mogplex/runs/{id}/cancel", run.GetProperty("cancelUrl").GetString());
        Assert.Equal("2026-11-29T12:00:01.234Z", run.GetProperty("createdAt").GetString());
        Assert.Equal("2026-11-29T12:00:01.234Z", run.GetProperty("updatedAt").GetString());
        Assert.Equal(JsonValueKind.Null, run.GetProperty("error").ValueKind);
        ApiAssert.HasExactly(run.GetProperty("runtime"), "provider", "runId");
        Assert.Equal("mogplexd", run.GetProperty("runtime").GetProperty("provider").GetString());
        Assert.Equal(JsonValueKind.Null, run.GetProperty("runtime").GetProperty("runId").ValueKind);
        ApiAssert.HasExactly(run.GetProperty("usage"), "inputTokens", "cachedInputTokens", "outputTokens", "costUsd");
        foreach (var u in run.GetProperty("usage").EnumerateObject())
        {
            Assert.Equal(JsonValueKind.Null, u.Value.ValueKind);
        }

        Assert.Equal(JsonValueKind.Null, run.GetProperty("startedAt").ValueKind);
        Assert.Equal(JsonValueKind.Null, run.GetProperty("finishedAt").ValueKind);
        Assert.Equal(JsonValueKind.Null, run.GetProperty("commit").ValueKind);

        // No worker has claimed it (this server has none): the only run in the queue, it waits for one.
        ApiAssert.HasExactly(run.GetProperty("queue"), "position", "waitingFor");
        Assert.Equal(1, run.GetProperty("queue").GetProperty("position").GetInt32());
        Assert.Equal("worker", run.GetProperty("queue").GetProperty("waitingFor").GetString());

        // POST /runs answers the same detail, flat in data, plus replayed.
        foreach (var field in s_detailFields)
        {
            Assert.Equal(run.GetProperty(field).GetRawText(), started.GetProperty(field).GetRawText());
        }
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task GetRun_Finished_ShowsRuntimeSandboxTimesAndCommit()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();
        var id = await server.StartRunAsync(client, repo);
        server.Time.Advance(TimeSpan.FromSeconds(2.5));
        await server.MakeStreamingAsync(id, sandboxRecordId: "0198c0de-0000-7000-8000-000000000001", sandboxId: "sbx_abc", runtimeRunId: "exec-42");
        server.Time.Advance(TimeSpan.FromMilliseconds(60_007));
        await server.Store.Runs.TransitionAsync(
            new RunTransition { RunId = id, From = [RunStatuses.Streaming], To = RunStatuses.Success, At = server.Time.GetUtcNow(), Commit = "0123456789abcdef0123456789abcdef01234567" },
            ServerFixture.Ct);

        var run = ApiAssert.Ok(await ApiClient.GetAsync(client, $"/runs/{id}")).GetProperty("run");

        Assert.Equal("success", run.GetProperty("status").GetString());
        Assert.Equal("0198c0de-0000-7000-8000-000000000001", run.GetProperty("sandboxRecordId").GetString());
        Assert.Equal("sbx_abc", run.GetProperty("sandboxId").GetString());
        Assert.Equal("exec-42", run.GetProperty("runtime").GetProperty("runId").GetString());
        Assert.Equal("2026-11-29T12:00:00.000Z", run.GetProperty("createdAt").GetString());
        Assert.Equal("2026-11-29T12:00:02.500Z", run.GetProperty("startedAt").GetString());
        Assert.Equal("2026-11-29T12:01:02.507Z", run.GetProperty("finishedAt").GetString());
        Assert.Equal("2026-11-29T12:01:02.507Z", run.GetProperty("updatedAt").GetString());
        Assert.Equal("0123456789abcdef0123456789abcdef01234567", run.GetProperty("commit").GetString());
        foreach (var field in new[] { "createdAt", "updatedAt", "startedAt", "finishedAt" })
        {
            ApiAssert.IsTimestamp(run.GetProperty(field));
        }
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task ListRuns_NewestFirst_WithShapeAndNullCursorOnLastPage()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(await server.StartRunAsync(client, repo));
            server.Time.Advance(TimeSpan.FromSeconds(1));
        }

        var data = ApiAssert.Ok(await ApiClient.GetAsync(client, "/runs"));

        ApiAssert.HasExactly(data, "runs", "nextCursor");
        Assert.Equal(JsonValueKind.Null, data.GetProperty("nextCursor").ValueKind);
        Assert.Equal(Enumerable.Reverse(ids), RunIds(data));
        ApiAssert.HasExactly(data.GetProperty("runs")[0], s_detailFields);
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task ListRuns_Filters_ByRepoAndStatus()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var repoA = await server.CreateRepoAsync(fullName: "acme/a");
        var repoB = await server.CreateRepoAsync(fullName: "acme/b");
        var a1 = await server.StartRunAsync(client, repoA);
        server.Time.Advance(TimeSpan.FromSeconds(1));
        var b1 = await server.StartRunAsync(client, repoB);
        server.Time.Advance(TimeSpan.FromSeconds(1));
        var a2 = await server.StartRunAsync(client, repoA);
        ApiAssert.Ok(await ApiClient.PostAsync(client, $"/runs/{a1}/cancel"));
        await server.MakeStreamingAsync(b1);

        Assert.Equal([a2, a1], RunIds(ApiAssert.Ok(await ApiClient.GetAsync(client, $"/runs?repo_id={repoA}"))));
        Assert.Equal([b1], RunIds(ApiAssert.Ok(await ApiClient.GetAsync(client, $"/runs?repo_id={repoB}"))));
        Assert.Equal([a1], RunIds(ApiAssert.Ok(await ApiClient.GetAsync(client, "/runs?status=cancelled"))));
        Assert.Equal([b1], RunIds(ApiAssert.Ok(await ApiClient.GetAsync(client, "/runs?status=streaming"))));
        Assert.Equal([a2], RunIds(ApiAssert.Ok(await ApiClient.GetAsync(client, $"/runs?status=pending&repo_id={repoA}"))));
        Assert.Empty(RunIds(ApiAssert.Ok(await ApiClient.GetAsync(client, $"/runs?status=pending&repo_id={repoB}"))));
        Assert.Empty(RunIds(ApiAssert.Ok(await ApiClient.GetAsync(client, "/runs?status=success"))));
        Assert.Empty(RunIds(ApiAssert.Ok(await ApiClient.GetAsync(client, $"/runs?repo_id={Guid.NewGuid()}"))));
        Assert.Empty(RunIds(ApiAssert.Ok(await ApiClient.GetAsync(client, "/runs?repo_id=not-an-id"))));
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task ListRuns_InvalidStatus_400()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());

        await Cases.CheckAllAsync(
            ["Pending", "PENDING", "done", "running", "pending,streaming", " pending"],
            async status => ApiAssert.Error(await ApiClient.GetAsync(client, "/runs?status=" + Uri.EscapeDataString(status)), HttpStatusCode.BadRequest, "BAD_REQUEST", "Invalid status"));
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task ListRuns_InvalidCursor_400()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        string[] cursors =
        [
            "abc",
            "!!!",
            "MTIzNDU", // "12345": no separator
            "bm90LWEtY3Vyc29y", // "not-a-cursor"
            "MTIzLm5vdC1hbi1pZA", // "123.not-an-id"
            "LTEuMDE5OGMwZGUtMDAwMC03MDAwLTgwMDAtMDAwMDAwMDAwMDAw", // negative time
            "OTk5OTk5OTk5OTk5OTk5OTk5OS4wMTk4YzBkZS0wMDAwLTcwMDAtODAwMC0wMDAwMDAwMDAwMDA", // time overflows
            new string('A', 5000),
        ];

        await Cases.CheckAllAsync(
            cursors,
            async cursor => ApiAssert.Error(await ApiClient.GetAsync(client, "/runs?cursor=" + Uri.EscapeDataString(cursor)), HttpStatusCode.BadRequest, "BAD_REQUEST", "Invalid cursor"));
    }

    [Theory(Timeout = TestTimeouts.Api)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ListRuns_CursorPaging_ThreePagesNoDuplicatesNoGaps(bool sameMillisecond)
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();
        var created = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            created.Add(await server.StartRunAsync(client, repo));
            if (!sameMillisecond)
            {
                server.Time.Advance(TimeSpan.FromSeconds(1));
            }
        }

        var page1 = ApiAssert.Ok(await ApiClient.GetAsync(client, "/runs?limit=3"));
        var cursor1 = page1.GetProperty("nextCursor").GetString()!;
        var page2 = ApiAssert.Ok(await ApiClient.GetAsync(client, "/runs?limit=3&cursor=" + Uri.EscapeDataString(cursor1)));
        var cursor2 = page2.GetProperty("nextCursor").GetString()!;
        var page3 = ApiAssert.Ok(await ApiClient.GetAsync(client, "/runs?limit=3&cursor=" + Uri.EscapeDataString(cursor2)));

        Assert.Equal(3, RunIds(page1).Count);
        Assert.Equal(3, RunIds(page2).Count);
        Assert.Single(RunIds(page3));
        Assert.Equal(JsonValueKind.Null, page3.GetProperty("nextCursor").ValueKind);
        var all = RunIds(page1).Concat(RunIds(page2)).Concat(RunIds(page3)).ToList();
        Assert.Equal(7, all.Distinct().Count());
        Assert.Equal(created.Order(StringComparer.Ordinal), all.Order(StringComparer.Ordinal));

        // The pages are the single listing cut in three.
        Assert.Equal(RunIds(ApiAssert.Ok(await ApiClient.GetAsync(client, "/runs"))), all);
        if (!sameMillisecond)
        {
            Assert.Equal(Enumerable.Reverse(created), all);
        }

        // A newer run does not shift later pages: the cursor is a position, not an offset.
        server.Time.Advance(TimeSpan.FromMilliseconds(1));
        await server.StartRunAsync(client, repo);
        Assert.Equal(RunIds(page2), RunIds(ApiAssert.Ok(await ApiClient.GetAsync(client, "/runs?limit=3&cursor=" + Uri.EscapeDataString(cursor1)))));
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task ListRuns_CursorWithFilters_PagesWithinTheFilter()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var repoA = await server.CreateRepoAsync(fullName: "acme/a");
        var repoB = await server.CreateRepoAsync(fullName: "acme/b");
        var inA = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            inA.Add(await server.StartRunAsync(client, repoA));
            await server.StartRunAsync(client, repoB);
            server.Time.Advance(TimeSpan.FromSeconds(1));
        }

        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = ApiAssert.Ok(await ApiClient.GetAsync(client, $"/runs?repo_id={repoA}&limit=2" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor))));
            seen.AddRange(RunIds(page));
            cursor = page.GetProperty("nextCursor").GetString();
            pages++;
        }
        while (cursor is not null && pages < 10);

        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Reverse(inA), seen);
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task ListRuns_Limit_Default20ClampedTo1And200()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();
        var user = await server.UserIdAsync();
        for (var i = 0; i < 205; i++)
        {
            await InsertRunAsync(server, user, repo);
            server.Time.Advance(TimeSpan.FromMilliseconds(1));
        }

        var byDefault = ApiAssert.Ok(await ApiClient.GetAsync(client, "/runs"));
        Assert.Equal(20, RunIds(byDefault).Count);
        Assert.NotEqual(JsonValueKind.Null, byDefault.GetProperty("nextCursor").ValueKind);
        Assert.Single(RunIds(ApiAssert.Ok(await ApiClient.GetAsync(client, "/runs?limit=0"))));
        Assert.Single(RunIds(ApiAssert.Ok(await ApiClient.GetAsync(client, "/runs?limit=-3"))));
        var max = ApiAssert.Ok(await ApiClient.GetAsync(client, "/runs?limit=1000"));
        Assert.Equal(200, RunIds(max).Count);
        var rest = ApiAssert.Ok(await ApiClient.GetAsync(client, "/runs?limit=1000&cursor=" + Uri.EscapeDataString(max.GetProperty("nextCursor").GetString()!)));
        Assert.Equal(5, RunIds(rest).Count);
        Assert.Equal(JsonValueKind.Null, rest.GetProperty("nextCursor").ValueKind);
        ApiAssert.Error(await ApiClient.GetAsync(client, "/runs?limit=ten"), HttpStatusCode.BadRequest, "BAD_REQUEST", "Invalid limit");
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task ListRuns_ExactlyLimitRuns_NoNextCursor()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();
        await server.StartRunAsync(client, repo);
        await server.StartRunAsync(client, repo);

        var page = ApiAssert.Ok(await ApiClient.GetAsync(client, "/runs?limit=2"));

        Assert.Equal(2, RunIds(page).Count);
        Assert.Equal(JsonValueKind.Null, page.GetProperty("nextCursor").ValueKind);
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task Events_Shape_OrderedWithSeq()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();
        var id = await server.StartRunAsync(client, repo);
        server.Time.Advance(TimeSpan.FromSeconds(1));
        await server.Store.Events.AppendAsync(
            id,
            [
                new NewRunEvent("tool_call", "shell", "Running tests", """{"command":"dotnet test"}"""),
                new NewRunEvent("tool_result", "shell", null, null),
            ],
            server.Time.GetUtcNow(),
            ServerFixture.Ct);

        var data = ApiAssert.Ok(await ApiClient.GetAsync(client, $"/runs/{id}/events"));

        ApiAssert.HasExactly(data, "run", "events");
        ApiAssert.HasExactly(data.GetProperty("run"), s_detailFields);
        Assert.Equal(id, data.GetProperty("run").GetProperty("runId").GetString());
        var events = data.GetProperty("events").EnumerateArray().ToList();
        Assert.Equal(3, events.Count);
        foreach (var e in events)
        {
            ApiAssert.HasExactly(e, "id", "type", "toolName", "message", "payload", "createdAt", "seq");
            ApiAssert.IsTimestamp(e.GetProperty("createdAt"));
        }

        Assert.Equal([1L, 2L, 3L], events.Select(e => e.GetProperty("seq").GetInt64()));
        Assert.Equal(["started", "tool_call", "tool_result"], events.Select(e => e.GetProperty("type").GetString()));
        Assert.Equal(JsonValueKind.Null, events[0].GetProperty("toolName").ValueKind);
        Assert.Equal("shell", events[1].GetProperty("toolName").GetString());
        Assert.Equal("Running tests", events[1].GetProperty("message").GetString());
        Assert.Equal("dotnet test", events[1].GetProperty("payload").GetProperty("command").GetString());
        Assert.Equal(JsonValueKind.Null, events[2].GetProperty("payload").ValueKind);
        Assert.Equal(JsonValueKind.Null, events[2].GetProperty("message").ValueKind);
        Assert.Equal("2026-11-29T12:00:00.000Z", events[0].GetProperty("createdAt").GetString());
        Assert.Equal("2026-11-29T12:00:01.000Z", events[1].GetProperty("createdAt").GetString());
        Assert.Equal(3, events.Select(e => e.GetProperty("id").GetString()).Distinct().Count());
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task Events_LimitAndAfter_PageThroughWithoutGaps()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();
        var id = await server.StartRunAsync(client, repo);
        await server.Store.Events.AppendAsync(
            id, [.. Enumerable.Range(1, 249).Select(i => new NewRunEvent("log", null, "line " + i, null))], server.Time.GetUtcNow(), ServerFixture.Ct);

        Assert.Equal(Seqs(1, 100), Seq(ApiAssert.Ok(await ApiClient.GetAsync(client, $"/runs/{id}/events"))));
        Assert.Equal(Seqs(1, 1), Seq(ApiAssert.Ok(await ApiClient.GetAsync(client, $"/runs/{id}/events?limit=0"))));
        Assert.Equal(Seqs(1, 1), Seq(ApiAssert.Ok(await ApiClient.GetAsync(client, $"/runs/{id}/events?limit=-1"))));
        Assert.Equal(Seqs(1, 200), Seq(ApiAssert.Ok(await ApiClient.GetAsync(client, $"/runs/{id}/events?limit=1000"))));
        ApiAssert.Error(await ApiClient.GetAsync(client, $"/runs/{id}/events?limit=x"), HttpStatusCode.BadRequest, "BAD_REQUEST", "Invalid limit");

        // after=<eventId> resumes right after that event, whatever the page size.
        var collected = new List<long>();
        string? after = null;
        for (var page = 0; page < 10; page++)
        {
            var data = ApiAssert.Ok(await ApiClient.GetAsync(client, $"/runs/{id}/events?limit=70" + (after is null ? "" : "&after=" + after)));
            var events = data.GetProperty("events").EnumerateArray().ToList();
            if (events.Count == 0)
            {
                break;
            }

            collected.AddRange(events.Select(e => e.GetProperty("seq").GetInt64()));
            after = events[^1].GetProperty("id").GetString();
        }

        Assert.Equal(Seqs(1, 250), collected);
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task Events_After_OnlyLaterEvents()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();
        var id = await server.StartRunAsync(client, repo);
        await server.Store.Events.AppendAsync(id, [new("log", null, "a", null), new("log", null, "b", null), new("log", null, "c", null)], server.Time.GetUtcNow(), ServerFixture.Ct);
        var all = ApiAssert.Ok(await ApiClient.GetAsync(client, $"/runs/{id}/events")).GetProperty("events").EnumerateArray().ToList();

        var afterSecond = ApiAssert.Ok(await ApiClient.GetAsync(client, $"/runs/{id}/events?after={all[1].GetProperty("id").GetString()}"));
        var afterLast = ApiAssert.Ok(await ApiClient.GetAsync(client, $"/runs/{id}/events?after={all[3].GetProperty("id").GetString()}"));

        Assert.Equal(["b", "c"], afterSecond.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("message").GetString()));
        Assert.Empty(afterLast.GetProperty("events").EnumerateArray());
        Assert.Equal(id, afterLast.GetProperty("run").GetProperty("runId").GetString());
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task Events_UnknownOrForeignAfter_400()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();
        var id = await server.StartRunAsync(client, repo);
        var other = await server.StartRunAsync(client, repo);
        var otherEvent = ApiAssert.Ok(await ApiClient.GetAsync(client, $"/runs/{other}/events")).GetProperty("events")[0].GetProperty("id").GetString();

        foreach (var after in new[] { Guid.NewGuid().ToString(), "abc", otherEvent!, "1", id })
        {
            var reply = await ApiClient.GetAsync(client, $"/runs/{id}/events?after={Uri.EscapeDataString(after)}");
            ApiAssert.Error(reply, HttpStatusCode.BadRequest, "BAD_REQUEST", "Invalid after: not an event of this run");
        }
    }

    private static List<string> RunIds(JsonElement data) =>
        [.. data.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("runId").GetString()!)];

    private static List<long> Seq(JsonElement data) =>
        [.. data.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("seq").GetInt64())];

    private static List<long> Seqs(long from, long to) => [.. Enumerable.Range((int)from, (int)(to - from + 1)).Select(i => (long)i)];

    private static Task<CreateRunResult> InsertRunAsync(ServerFixture server, string userId, string repoId)
    {
        var now = server.Time.GetUtcNow();
        var run = new RunRecord
        {
            Id = Guid.CreateVersion7(now).ToString(),
            UserId = userId,
            RepoId = repoId,
            AiCallId = Guid.NewGuid().ToString(),
            Harness = "codex",
            Status = RunStatuses.Pending,
            BaseBranch = "main",
            WorkingBranch = "main",
            CreateBranch = false,
            RootDirectory = "",
            Prompt = "x",
            CreatedAt = now,
            UpdatedAt = now,
        };
        return server.Store.Runs.CreateRunAsync(new CreateRunCommand(run, Guid.NewGuid().ToString(), "h", "test", [], [new NewRunEvent("started", null, "Run accepted", null)]), ServerFixture.Ct);
    }
}
