using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Mogplex.Contracts.Events;
using Mogplex.Contracts.Runs;
using Mogplex.Server.Configuration;
using Mogplex.Server.Tests.Engine;
using Mogplex.Server.Tests.Infrastructure;
using Mogplex.Storage;
using Mogplex.Testing.Postgres;

[assembly: AssemblyFixture(typeof(PostgresTestCluster))]

namespace Mogplex.Server.Tests.MultiNode;

/// <summary>
/// Two in-process <c>mogplexd</c> nodes on one PostgreSQL schema (<c>Storage:Provider=postgres</c>):
/// what the API promises across nodes, through real HTTP on each node.
/// </summary>
public sealed class PostgresNodesTests(PostgresTestCluster cluster)
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(10);

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task EventStream_FollowerOnNodeB_GetsEventsAppendedOnNodeA()
    {
        // Keep-alives (and the re-read that comes with them) would take an hour: only the
        // cross-node wake-up (LISTEN/NOTIFY) can bring the events to node B's stream in time.
        await using var nodes = await StartNodesAsync(new() { ["Api:SseKeepAliveSeconds"] = "3600" });
        var token = await nodes.A.CreateTokenAsync();
        var repo = await nodes.A.CreateRepoAsync();
        var started = await ApiClient.StartRunAsync(nodes.A.Client(token), new { repoId = repo, prompt = "follow me" });
        Assert.Equal(HttpStatusCode.Accepted, started.Status);
        var runId = started.Data.GetProperty("runId").GetString()!;

        await using var sse = await SseConnection.OpenAsync(nodes.B.Client(token), $"/runs/{runId}/events");
        Assert.Equal("started", (await sse.ReadEventAsync(s_deadline))!.Event);

        var appended = await nodes.A.Store.Events.AppendAsync(runId, [new NewRunEvent(RunEventTypes.Log, null, "from node a", null)], nodes.A.Time.GetUtcNow(), ServerFixture.Ct);
        var frame = await sse.ReadEventAsync(s_deadline);
        Assert.Equal(appended[0].Id, frame!.Id);
        Assert.Contains("from node a", frame.Data, StringComparison.Ordinal);

        var done = await nodes.A.Store.Runs.TransitionAsync(
            new RunTransition { RunId = runId, From = [RunStatuses.Pending], To = RunStatuses.Cancelled, At = nodes.A.Time.GetUtcNow(), Events = [new NewRunEvent(RunEventTypes.Cancelled, null, "cancelled on node a", null)] },
            ServerFixture.Ct);
        Assert.NotNull(done);
        Assert.Equal("cancelled", (await sse.ReadEventAsync(s_deadline))!.Event);
        Assert.Equal("end", (await sse.ReadEventAsync(s_deadline))!.Event);
        await sse.AssertEndedAsync(s_deadline);
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task Requests_AlternatingNodes_OneTokenLimitHoldsAcrossNodes()
    {
        await using var nodes = await StartNodesAsync(new() { ["RateLimits:RequestsPerWindow"] = "10" });
        var token = await nodes.A.CreateTokenAsync();
        var onA = nodes.A.Client(token);
        var onB = nodes.B.Client(token);

        for (var i = 0; i < 10; i++)
        {
            var reply = await ApiClient.GetAsync(i % 2 == 0 ? onA : onB, "/repos");
            Assert.Equal(HttpStatusCode.OK, reply.Status);
            Assert.Equal((9 - i).ToString(System.Globalization.CultureInfo.InvariantCulture), reply.Header("RateLimit-Remaining"));
        }

        ApiAssert.Error(await ApiClient.GetAsync(onA, "/repos"), HttpStatusCode.TooManyRequests, "RATE_LIMITED", "Rate limit exceeded. Retry after 60s.");
        ApiAssert.Error(await ApiClient.GetAsync(onB, "/repos"), HttpStatusCode.TooManyRequests, "RATE_LIMITED", "Rate limit exceeded. Retry after 60s.");
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task RunStarts_LimitHoldsAcrossNodes_429CarriesTheRunStartWindowsHeaders()
    {
        await using var nodes = await StartNodesAsync(new() { ["RateLimits:RunStartsPerMinute"] = "2" });
        var token = await nodes.A.CreateTokenAsync();
        var repo = await nodes.A.CreateRepoAsync();
        await nodes.A.StartRunAsync(nodes.A.Client(token), repo);
        await nodes.B.StartRunAsync(nodes.B.Client(token), repo);

        foreach (var node in new[] { nodes.A, nodes.B })
        {
            var denied = await ApiClient.StartRunAsync(node.Client(token), new { repoId = repo, prompt = "third" });
            ApiAssert.Error(denied, HttpStatusCode.TooManyRequests, "RATE_LIMITED", "Run start limit exceeded (2 per minute). Retry after 60s.");
            Assert.Equal("60", denied.Header("Retry-After"));
            Assert.Equal("2", denied.Header("RateLimit-Limit"));
            Assert.Equal("0", denied.Header("RateLimit-Remaining"));
            Assert.Equal("60", denied.Header("RateLimit-Reset"));
        }

        // Any other answer describes the request window (60 per 60 s; 4 requests so far, 5 with this one).
        var listed = await ApiClient.GetAsync(nodes.B.Client(token), "/runs");
        Assert.Equal(HttpStatusCode.OK, listed.Status);
        Assert.Equal("60", listed.Header("RateLimit-Limit"));
        Assert.Equal("55", listed.Header("RateLimit-Remaining"));
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task StartRun_SameKeyOnBothNodesAtOnce_OneRunAndTheOtherReplaysIt()
    {
        await using var nodes = await StartNodesAsync();
        var token = await nodes.A.CreateTokenAsync();
        var repo = await nodes.A.CreateRepoAsync();
        var body = new { repoId = repo, prompt = "exactly once" };

        var replies = await Task.WhenAll(Enumerable.Range(0, 10).Select(i =>
            ApiClient.StartRunAsync((i % 2 == 0 ? nodes.A : nodes.B).Client(token), body, key: "shared-key")));

        Assert.All(replies, r => Assert.Equal(HttpStatusCode.Accepted, r.Status));
        var runIds = replies.Select(r => r.Data.GetProperty("runId").GetString()).Distinct().ToList();
        Assert.Single(runIds);
        Assert.Equal(1, replies.Count(r => !r.Data.GetProperty("replayed").GetBoolean()));
        Assert.Single(await nodes.B.Store.Runs.ListRunsAsync(new RunQuery(null, null, null, 100, null), ServerFixture.Ct));
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task RunAcceptedOnNodeA_WakesTheIdleWorkersOfNodeB()
    {
        // Node A only serves the API; node B's workers look at the queue once an hour on their
        // own: only the cross-node "run queued" wake-up can start the run before the deadline.
        await using var nodes = await StartNodesAsync(
            new() { ["RateLimits:RequestsPerWindow"] = "100000" },
            b: new() { ["Runs:Workers"] = "true", ["Runs:PollSeconds"] = "3600", ["Sandbox:Isolation"] = "none" });
        var token = await nodes.A.CreateTokenAsync();
        var (repo, source) = await GitRepos.LinkAsync(nodes.A);
        var client = nodes.A.Client(token);

        var runIds = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            // Twice: the second run must wake a worker that has gone back to waiting.
            var started = await ApiClient.StartRunAsync(client, new { repoId = repo, harness = "exec", prompt = $"echo {i} > on-b.txt", createBranch = true, workingBranch = $"w/on-b-{i}" });
            var runId = started.Data.GetProperty("runId").GetString()!;
            var run = await EngineTestKit.WaitTerminalAsync(client, runId, TimeSpan.FromSeconds(20));
            Assert.True(run.GetProperty("status").GetString() == "success", run.ToString());
            Assert.Equal($"{i}\n", GitRepos.Git(source, "show", $"w/on-b-{i}:on-b.txt"));
            runIds.Add(runId);
        }

        var nodeB = nodes.B.Services.GetRequiredService<ServeSettings>().NodeId;
        foreach (var runId in runIds)
        {
            var preparing = (await EngineTestKit.AllEventsAsync(client, runId)).First(e => e.GetProperty("message").GetString() == "Preparing sandbox");
            Assert.Equal(nodeB, preparing.GetProperty("payload").GetProperty("node").GetString());
        }
    }

    /// <summary>A person decides on node A while node B runs the harness: the decision crosses through the database and its notification.</summary>
    [Theory]
    [InlineData("codex")]
    [InlineData("claude-code")]
    public async Task ApprovalDecidedOnNodeA_ReachesTheHarnessOnNodeB(string harness)
    {
        await using var model = await Mogplex.Testing.ModelStandIn.ModelStandInServer.StartAsync();
        await using var nodes = await StartHarnessNodesAsync(model);
        var client = nodes.A.Client(await nodes.A.CreateTokenAsync());
        var (repo, source) = await GitRepos.LinkAsync(nodes.A);
        var started = await ApiClient.StartRunAsync(client, new { repoId = repo, harness, prompt = "[[write hello.txt hi]]", createBranch = true, workingBranch = "w/nodes-" + harness, permissionMode = "approval" });
        var runId = started.Data.GetProperty("runId").GetString()!;

        var pending = await Waits.UntilAsync(
            async () => (await ApiClient.GetAsync(client, $"/runs/{runId}/approvals")).Data.GetProperty("approvals").EnumerateArray().FirstOrDefault(),
            a => a.ValueKind == System.Text.Json.JsonValueKind.Object,
            TimeSpan.FromSeconds(60),
            "an approval asked on node B");
        var decided = await ApiClient.PostAsync(client, $"/runs/{runId}/approvals/{pending.GetProperty("id").GetString()}", """{"decision":"approve"}""");
        var run = await EngineTestKit.WaitTerminalAsync(client, runId, TimeSpan.FromSeconds(60));

        Assert.Equal(HttpStatusCode.OK, decided.Status);
        Assert.True(run.GetProperty("status").GetString() == "success", run.ToString());
        Assert.Equal("hi", GitRepos.Git(source, "show", $"w/nodes-{harness}:hello.txt"));
        var nodeB = nodes.B.Services.GetRequiredService<ServeSettings>().NodeId;
        var preparing = (await EngineTestKit.AllEventsAsync(client, runId)).First(e => e.GetProperty("message").GetString() == "Preparing sandbox");
        Assert.Equal(nodeB, preparing.GetProperty("payload").GetProperty("node").GetString());
    }

    /// <summary>
    /// An interactive run on node B, talked to through node A: the follow-up, the diff's refusal on a
    /// node without the sandbox, and finish all cross through the database and its notification.
    /// </summary>
    [Theory]
    [InlineData("codex")]
    [InlineData("claude-code")]
    public async Task MessagesAndFinishSentToNodeA_ReachTheHarnessOnNodeB(string harness)
    {
        await using var model = await Mogplex.Testing.ModelStandIn.ModelStandInServer.StartAsync();
        await using var nodes = await StartHarnessNodesAsync(model);
        var token = await nodes.A.CreateTokenAsync();
        var client = nodes.A.Client(token);
        var onB = nodes.B.Client(token);
        var (repo, source) = await GitRepos.LinkAsync(nodes.A);
        var started = await ApiClient.StartRunAsync(client, new { repoId = repo, harness, prompt = "First [[write one.txt 1]]", createBranch = true, workingBranch = "w/chat-" + harness, interactive = true });
        var runId = started.Data.GetProperty("runId").GetString()!;
        await WaitInputAsync(client, runId, turns: 1);

        Assert.Equal(HttpStatusCode.Accepted, (await ApiClient.PostAsync(client, $"/runs/{runId}/messages", """{"text":"Second [[write two.txt 2]]"}""")).Status);
        await WaitInputAsync(client, runId, turns: 2);

        // The live diff is answered by the node that holds the sandbox; the other one says so.
        var here = await ApiClient.GetAsync(onB, $"/runs/{runId}/diff");
        Assert.True(here.Status == HttpStatusCode.OK, here.Json.GetRawText());
        Assert.Equal(2, here.Data.GetProperty("files").GetArrayLength());
        Assert.Equal(HttpStatusCode.Conflict, (await ApiClient.GetAsync(client, $"/runs/{runId}/diff")).Status);

        Assert.Equal(HttpStatusCode.Accepted, (await ApiClient.PostAsync(client, $"/runs/{runId}/finish")).Status);
        var run = await EngineTestKit.WaitTerminalAsync(client, runId, TimeSpan.FromSeconds(60));
        Assert.True(run.GetProperty("status").GetString() == "success", run.ToString());
        Assert.Equal("2", GitRepos.Git(source, "show", $"w/chat-{harness}:two.txt"));
        Assert.Equal(HttpStatusCode.OK, (await ApiClient.GetAsync(client, $"/runs/{runId}/diff")).Status);
    }

    private static Task<System.Text.Json.JsonElement> WaitInputAsync(HttpClient client, string runId, int turns) =>
        Waits.UntilAsync(
            async () => (await ApiClient.GetAsync(client, $"/runs/{runId}")).Data.GetProperty("run"),
            r => r.GetProperty("awaiting").GetString() == "input" && r.GetProperty("turns").GetInt32() == turns,
            TimeSpan.FromSeconds(90),
            $"run {runId} to wait for input after turn {turns}");

    /// <summary>Two nodes where only B runs harnesses: both real CLIs on <paramref name="model"/>, in bubblewrap.</summary>
    private Task<Nodes> StartHarnessNodesAsync(Mogplex.Testing.ModelStandIn.ModelStandInServer model) => StartNodesAsync(
        new() { ["RateLimits:RequestsPerWindow"] = "100000" },
        b: new()
        {
            ["Runs:Workers"] = "true",
            ["Sandbox:Isolation"] = "bwrap",
            ["Harnesses:Codex:BaseUrl"] = model.OpenAiBaseUrl,
            ["Harnesses:Codex:ApiKeyVariable"] = "MODEL_KEY",
            ["Harnesses:Codex:Secrets:MODEL_KEY"] = "stand-in-key",
            ["Harnesses:ClaudeCode:BaseUrl"] = model.AnthropicBaseUrl,
            ["Harnesses:ClaudeCode:Secrets:ANTHROPIC_API_KEY"] = "stand-in-key",
        });

    private async Task<Nodes> StartNodesAsync(Dictionary<string, string?>? overrides = null, Dictionary<string, string?>? b = null)
    {
        var (connectionString, schema) = await cluster.CreateSchemaAsync(ServerFixture.Ct);
        var config = new Dictionary<string, string?>(overrides ?? []) { ["Storage:Provider"] = "postgres", ["Storage:Postgres"] = connectionString };
        var onB = new Dictionary<string, string?>(config);
        foreach (var (k, v) in b ?? [])
        {
            onB[k] = v;
        }

        var a = await ServerFixture.StartAsync(config);
        var nodeB = await ServerFixture.StartAsync(onB);
        Assert.Equal("postgres", a.Store.ProviderName);
        return new Nodes(a, nodeB, () => cluster.DropSchema(schema));
    }

    private sealed record Nodes(ServerFixture A, ServerFixture B, Action Drop) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await A.DisposeAsync();
            await B.DisposeAsync();
            Drop();
        }
    }
}
