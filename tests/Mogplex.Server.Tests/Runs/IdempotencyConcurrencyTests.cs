using System.Net;
using System.Text;
using System.Text.Json;
using Mogplex.Server.Tests.Infrastructure;
using Mogplex.Storage;

namespace Mogplex.Server.Tests.Runs;

/// <summary>
/// Concurrent duplicates on one Idempotency-Key resolve to exactly one run: one creation, every
/// identical request a replay of it, every different request a conflict, and no budget spent twice.
/// </summary>
public sealed class IdempotencyConcurrencyTests
{
    private const int Concurrency = 50;
    private const int Clients = 5;

    // The per-token request limit (60 a minute) is not under test here; the run-start limits are.
    private static readonly Dictionary<string, string?> s_roomyRequests = new() { ["RateLimits:RequestsPerWindow"] = "10000" };

    private sealed record Answer(HttpStatusCode Status, JsonElement Json, int Index)
    {
        public JsonElement Data => Json.GetProperty("data");
    }

    [Fact]
    public async Task StartRun_50ConcurrentIdenticalRequestsOneKey_OneRunOneCreated49Replays()
    {
        await using var server = await ServerFixture.StartAsync(s_roomyRequests);
        var token = await server.CreateTokenAsync();
        var repo = await server.CreateRepoAsync();
        var body = JsonSerializer.Serialize(new { repoId = repo, prompt = "Fix the flaky test", createBranch = true });

        var answers = await SendConcurrentlyAsync(server, token, "one-key", Enumerable.Repeat(body, Concurrency).ToArray());

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.Accepted, a.Status));
        Assert.Single(answers, a => !a.Data.GetProperty("replayed").GetBoolean());
        Assert.Equal(Concurrency - 1, answers.Count(a => a.Data.GetProperty("replayed").GetBoolean()));
        var runId = Assert.Single(answers.Select(a => a.Data.GetProperty("runId").GetString()).Distinct());

        // Every answer describes the same run the same way (the generated branch included).
        Assert.Single(answers.Select(a => a.Data.GetProperty("branch").GetRawText()).Distinct());
        Assert.Single(answers.Select(a => a.Data.GetProperty("aiCallId").GetString()).Distinct());

        await AssertExactlyTheseRunsAsync(server, token, [runId!]);
    }

    [Fact]
    public async Task StartRun_50ConcurrentDifferentRequestsOneKey_OneCreatedTwinsReplayOthersConflict()
    {
        await using var server = await ServerFixture.StartAsync(s_roomyRequests);
        var token = await server.CreateTokenAsync();
        var repo = await server.CreateRepoAsync();

        // 25 distinct bodies, each sent twice: whichever wins, its twin is a replay and the other 48 conflict.
        var bodies = Enumerable.Range(0, Concurrency)
            .Select(i => JsonSerializer.Serialize(new { repoId = repo, prompt = $"variant {i % 25}" }))
            .ToArray();

        var answers = await SendConcurrentlyAsync(server, token, "contested-key", bodies);

        var accepted = answers.Where(a => a.Status == HttpStatusCode.Accepted).ToList();
        var created = Assert.Single(accepted, a => !a.Data.GetProperty("replayed").GetBoolean());
        var replay = Assert.Single(accepted, a => a.Data.GetProperty("replayed").GetBoolean());
        Assert.Equal(created.Index % 25, replay.Index % 25);
        Assert.Equal(created.Data.GetProperty("runId").GetString(), replay.Data.GetProperty("runId").GetString());

        var conflicts = answers.Where(a => a.Status != HttpStatusCode.Accepted).ToList();
        Assert.Equal(Concurrency - 2, conflicts.Count);
        Assert.All(conflicts, a =>
        {
            Assert.Equal(HttpStatusCode.Conflict, a.Status);
            Assert.False(a.Json.GetProperty("ok").GetBoolean());
            Assert.Equal("IDEMPOTENCY_CONFLICT", a.Json.GetProperty("error").GetProperty("code").GetString());
            Assert.Equal("Idempotency key already used for a different request", a.Json.GetProperty("error").GetProperty("message").GetString());
            Assert.NotEqual(created.Index % 25, a.Index % 25);
        });

        var runId = created.Data.GetProperty("runId").GetString()!;
        await AssertExactlyTheseRunsAsync(server, token, [runId]);
        var stored = await server.Store.Runs.GetRunAsync(runId, null, ServerFixture.Ct);
        Assert.Equal($"variant {created.Index % 25}", stored!.Prompt);
    }

    [Fact]
    public async Task StartRun_ConcurrentReplays_ConsumeNoRunStartBudget()
    {
        await using var server = await ServerFixture.StartAsync(s_roomyRequests);
        var token = await server.CreateTokenAsync();
        var repo = await server.CreateRepoAsync();
        var body = JsonSerializer.Serialize(new { repoId = repo, prompt = "once" });

        var answers = await SendConcurrentlyAsync(server, token, "budget-key", Enumerable.Repeat(body, Concurrency).ToArray());
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.Accepted, a.Status));

        // One start was spent: nine more fit the 10-per-minute limit, the tenth does not.
        var client = server.Client(token);
        var runs = new List<string> { answers[0].Data.GetProperty("runId").GetString()! };
        for (var i = 0; i < 9; i++)
        {
            var reply = await ApiClient.StartRunAsync(client, new { repoId = repo, prompt = $"more {i}" });
            Assert.Equal(HttpStatusCode.Accepted, reply.Status);
            runs.Add(reply.Data.GetProperty("runId").GetString()!);
        }

        var denied = await ApiClient.StartRunAsync(client, new { repoId = repo, prompt = "one too many" });
        Assert.Equal(HttpStatusCode.TooManyRequests, denied.Status);
        Assert.Equal("RATE_LIMITED", denied.ErrorCode);
        Assert.Equal("Run start limit exceeded (10 per minute). Retry after 60s.", denied.ErrorMessage);
        Assert.Equal("60", denied.Header("Retry-After"));

        // A replay still answers while the budget is exhausted: it starts nothing.
        var replay = await ApiClient.SendAsync(client, HttpMethod.Post, "/runs", body, new Dictionary<string, string> { ["Idempotency-Key"] = "budget-key" });
        Assert.Equal(HttpStatusCode.Accepted, replay.Status);
        Assert.True(replay.Data.GetProperty("replayed").GetBoolean());

        var stored = await server.Store.Runs.ListRunsAsync(new RunQuery(null, null, null, 100, null), ServerFixture.Ct);
        Assert.Equal(runs.Order(), stored.Select(r => r.Id).Order());
    }

    [Fact]
    public async Task StartRun_TwoUsersSameKeyConcurrently_OneRunEach()
    {
        await using var server = await ServerFixture.StartAsync(s_roomyRequests);
        var alice = await server.CreateTokenAsync("alice");
        var bob = await server.CreateTokenAsync("bob");
        var aliceRepo = await server.CreateRepoAsync("alice", "alice/app");
        var bobRepo = await server.CreateRepoAsync("bob", "bob/app");
        var aliceBody = JsonSerializer.Serialize(new { repoId = aliceRepo, prompt = "same key" });
        var bobBody = JsonSerializer.Serialize(new { repoId = bobRepo, prompt = "same key" });

        var both = await Task.WhenAll(
            SendConcurrentlyAsync(server, alice, "shared", Enumerable.Repeat(aliceBody, 25).ToArray()),
            SendConcurrentlyAsync(server, bob, "shared", Enumerable.Repeat(bobBody, 25).ToArray())).WaitAsync(TimeSpan.FromSeconds(30), ServerFixture.Ct);

        var aliceRun = Assert.Single(both[0].Select(a => a.Data.GetProperty("runId").GetString()).Distinct());
        var bobRun = Assert.Single(both[1].Select(a => a.Data.GetProperty("runId").GetString()).Distinct());
        Assert.NotEqual(aliceRun, bobRun);
        Assert.Single(both[0], a => !a.Data.GetProperty("replayed").GetBoolean());
        Assert.Single(both[1], a => !a.Data.GetProperty("replayed").GetBoolean());
        await AssertExactlyTheseRunsAsync(server, alice, [aliceRun!], await server.UserIdAsync("alice"));
        await AssertExactlyTheseRunsAsync(server, bob, [bobRun!], await server.UserIdAsync("bob"));
    }

    /// <summary>
    /// Sends one POST /runs per body, all with <paramref name="key"/>, over several clients (so
    /// several connections). Every request is built first and released together by one gate.
    /// </summary>
    private static async Task<Answer[]> SendConcurrentlyAsync(ServerFixture server, string token, string key, string[] bodies)
    {
        var clients = Enumerable.Range(0, Clients).Select(_ => server.Client(token)).ToArray();
        var requests = bodies.Select(body =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, ApiClient.Base + "/runs") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.Add("Idempotency-Key", key);
            return request;
        }).ToArray();

        // Warm one connection per client so the burst is not serialized behind connection setup.
        foreach (var c in clients)
        {
            Assert.Equal(HttpStatusCode.OK, (await ApiClient.GetAsync(c, "/repos")).Status);
        }

        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = requests.Select(async (request, i) =>
        {
            await gate.Task;
            using var response = await clients[i % Clients].SendAsync(request, ServerFixture.Ct);
            var text = await response.Content.ReadAsStringAsync(ServerFixture.Ct);
            request.Dispose();
            return new Answer(response.StatusCode, JsonDocument.Parse(text).RootElement.Clone(), i);
        }).ToArray();
        gate.SetResult();
        return await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(30), ServerFixture.Ct);
    }

    /// <summary>The store, GET /runs and the run's events all agree: exactly these runs, each with one <c>started</c>.</summary>
    private static async Task AssertExactlyTheseRunsAsync(ServerFixture server, string token, string[] runIds, string? userId = null)
    {
        var stored = await server.Store.Runs.ListRunsAsync(new RunQuery(userId, null, null, 100, null), ServerFixture.Ct);
        Assert.Equal(runIds.Order(), stored.Select(r => r.Id).Order());

        var client = server.Client(token);
        var listed = await ApiClient.GetAsync(client, "/runs?limit=200");
        Assert.Equal(HttpStatusCode.OK, listed.Status);
        Assert.Equal(runIds.Order(), listed.Data.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("runId").GetString()!).Order());

        foreach (var id in runIds)
        {
            var events = await ApiClient.GetAsync(client, $"/runs/{id}/events");
            var only = Assert.Single(events.Data.GetProperty("events").EnumerateArray());
            Assert.Equal("started", only.GetProperty("type").GetString());
            Assert.Equal(1, only.GetProperty("seq").GetInt64());
        }
    }
}
