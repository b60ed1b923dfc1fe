using System.Text.Json;
using Mogplex.Server.Tests.Infrastructure;

namespace Mogplex.Server.Tests.Engine;

/// <summary>
/// [beyond] issue #13, "why is my run pending?": the run detail's <c>queue</c> and the
/// <c>Waiting ...</c> log event, end to end (real workers, real git, the exec harness held open by a gate).
/// </summary>
public sealed class RunQueuePlaceTests
{
    [Fact]
    public async Task PendingRuns_BranchBusyAndWorkersBusy_SayWhatTheyWaitForOnceAndWhere()
    {
        await using var server = await ServerFixture.StartAsync(new Dictionary<string, string?>
        {
            ["Runs:Workers"] = "true",
            ["Runs:MaxConcurrent"] = "2",
            ["Runs:MaxConcurrentPerUser"] = "4",
            ["Runs:PollSeconds"] = "0.1",
            ["RateLimits:RequestsPerWindow"] = "100000",
            ["Sandbox:Isolation"] = "none",
        });
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, _) = await GitRepos.LinkAsync(server);
        var gate = Path.Combine(Directory.CreateTempSubdirectory("mogplex-gate-").FullName, "open");
        var held = $"while [ ! -e '{gate}' ]; do sleep 0.05; done";
        Task<string> StartAsync(string branch) => StartRunAsync(server, client, repo, branch, held);

        var first = await StartAsync("w/a");
        var second = await StartAsync("w/a");
        var other = await StartAsync("w/b");
        await WaitStatusAsync(client, first, "streaming");
        await WaitStatusAsync(client, other, "streaming");

        // Both workers busy: the next runs wait for one, in the order they will be claimed.
        var (fourth, fourthAnswer) = await StartWithAnswerAsync(server, client, repo, "w/c", held);
        var (fifth, fifthAnswer) = await StartWithAnswerAsync(server, client, repo, "w/d", held);
        Assert.Equal((1, "worker"), Place(fourthAnswer));
        Assert.Equal((2, "worker"), Place(fifthAnswer));

        Assert.Equal((1, "branch"), Place(await GetRunAsync(client, second)));
        Assert.Equal((1, "worker"), Place(await GetRunAsync(client, fourth)));
        Assert.Equal((2, "worker"), Place(await GetRunAsync(client, fifth)));
        Assert.Equal(JsonValueKind.Null, (await GetRunAsync(client, first)).GetProperty("queue").ValueKind);

        // The list answers the same for every run of its page.
        var listed = (await ApiClient.GetAsync(client, "/runs?limit=10")).Data.GetProperty("runs").EnumerateArray()
            .ToDictionary(r => r.GetProperty("runId").GetString()!);
        Assert.Equal((1, "branch"), Place(listed[second]));
        Assert.Equal((2, "worker"), Place(listed[fifth]));
        Assert.Equal(JsonValueKind.Null, listed[other].GetProperty("queue").ValueKind);

        // So does the events page's run.
        Assert.Equal((2, "worker"), Place((await ApiClient.GetAsync(client, $"/runs/{fifth}/events")).Data.GetProperty("run")));

        // The workers' passes announce each reason once: passes keep coming (each start wakes one),
        // and the first announcements stay single.
        await WaitForWaitingEventsAsync(client, fifth, 1);
        await StartAsync("w/e");
        var sixth = await StartAsync("w/f");
        await WaitForWaitingEventsAsync(client, sixth, 1);
        Assert.Equal(["Waiting for branch w/a: another run of this branch is active or goes first (position 1)"], await WaitingMessagesAsync(client, second));
        Assert.Equal(["Waiting for a free worker (position 1)"], await WaitingMessagesAsync(client, fourth));
        Assert.Equal(["Waiting for a free worker (position 2)"], await WaitingMessagesAsync(client, fifth));
        Assert.Empty(await WaitingMessagesAsync(client, first));

        await File.WriteAllTextAsync(gate, "", ServerFixture.Ct);
        foreach (var id in new[] { first, second, other, fourth, fifth, sixth })
        {
            var run = await EngineTestKit.WaitTerminalAsync(client, id);
            Assert.True(run.GetProperty("status").GetString() == "success", run.ToString());
            Assert.Equal(JsonValueKind.Null, run.GetProperty("queue").ValueKind);
        }
    }

    [Fact]
    public async Task PendingRuns_UserAtTheLimit_WaitForTheUserLimitWhileAnotherUsersRunGoes()
    {
        await using var server = await ServerFixture.StartAsync(new Dictionary<string, string?>
        {
            ["Runs:Workers"] = "true",
            ["Runs:MaxConcurrent"] = "4",
            ["Runs:MaxConcurrentPerUser"] = "1",
            ["Runs:PollSeconds"] = "0.1",
            ["RateLimits:RequestsPerWindow"] = "100000",
            ["Sandbox:Isolation"] = "none",
        });
        var alice = server.Client(await server.CreateTokenAsync("alice"));
        var (repo, _) = await GitRepos.LinkAsync(server, user: "alice");
        var gate = Path.Combine(Directory.CreateTempSubdirectory("mogplex-gate-").FullName, "open");
        var held = $"while [ ! -e '{gate}' ]; do sleep 0.05; done";

        var active = await StartRunAsync(server, alice, repo, "w/1", held);
        await WaitStatusAsync(alice, active, "streaming");
        var next = await StartRunAsync(server, alice, repo, "w/2", held);
        var last = await StartRunAsync(server, alice, repo, "w/3", held);

        Assert.Equal((1, "user-limit"), Place(await GetRunAsync(alice, next)));
        Assert.Equal((2, "user-limit"), Place(await GetRunAsync(alice, last)));
        await WaitForWaitingEventsAsync(alice, last, 1);
        Assert.Equal(["Waiting: your limit of 1 active runs is reached (position 1)"], await WaitingMessagesAsync(alice, next));

        await File.WriteAllTextAsync(gate, "", ServerFixture.Ct);
        foreach (var id in new[] { active, next, last })
        {
            var run = await EngineTestKit.WaitTerminalAsync(alice, id);
            Assert.True(run.GetProperty("status").GetString() == "success", run.ToString());
        }
    }

    [Fact]
    public async Task AnotherUsersRunsAhead_AreACountAndNothingElse_NeitherTheirIdsNorTheirBranchesNorTheirRuns()
    {
        await using var server = await ServerFixture.StartAsync(new Dictionary<string, string?>
        {
            ["Runs:Workers"] = "true",
            ["Runs:MaxConcurrent"] = "2",
            ["Runs:MaxConcurrentPerUser"] = "4",
            ["Runs:PollSeconds"] = "0.1",
            ["RateLimits:RequestsPerWindow"] = "100000",
            ["Sandbox:Isolation"] = "none",
        });
        var alice = server.Client(await server.CreateTokenAsync("alice"));
        var bob = server.Client(await server.CreateTokenAsync("bob"));
        var (aliceRepo, source) = await GitRepos.LinkAsync(server, user: "alice");
        var bobShared = await GitRepos.LinkSourceAsync(server, source, "bob");
        var (bobOwn, _) = await GitRepos.LinkAsync(server, user: "bob");
        var gate = Path.Combine(Directory.CreateTempSubdirectory("mogplex-gate-").FullName, "open");
        var held = $"while [ ! -e '{gate}' ]; do sleep 0.05; done # alice-private-prompt";

        // Alice holds both workers; one of her runs holds branch w/shared of the source Bob linked too.
        var aliceShared = await StartRunAsync(server, alice, aliceRepo, "w/shared", held);
        var aliceOther = await StartRunAsync(server, alice, aliceRepo, "w/alice-private-branch", held);
        await WaitStatusAsync(alice, aliceShared, "streaming");
        await WaitStatusAsync(alice, aliceOther, "streaming");

        var bobBranch = await StartRunAsync(server, bob, bobShared, "w/shared", "true");
        var bobWorker = await StartRunAsync(server, bob, bobOwn, "w/bob", "true");
        Assert.Equal((1, "branch"), Place(await GetRunAsync(bob, bobBranch)));
        Assert.Equal((1, "worker"), Place(await GetRunAsync(bob, bobWorker)));
        await WaitForWaitingEventsAsync(bob, bobWorker, 1);
        await WaitForWaitingEventsAsync(bob, bobBranch, 1);

        // Everything Bob can read of his runs: the details, the list, the events (JSON and stream form alike).
        var seen = string.Join('\n',
            (await GetRunAsync(bob, bobBranch)).ToString(),
            (await GetRunAsync(bob, bobWorker)).ToString(),
            (await ApiClient.GetAsync(bob, "/runs?limit=50")).Data.ToString(),
            string.Join('\n', (await EngineTestKit.AllEventsAsync(bob, bobBranch)).Select(e => e.ToString())),
            string.Join('\n', (await EngineTestKit.AllEventsAsync(bob, bobWorker)).Select(e => e.ToString())));
        Assert.Contains(bobBranch, seen, StringComparison.Ordinal);
        Assert.Contains("Waiting for branch w/shared", seen, StringComparison.Ordinal);
        foreach (var secret in new[] { aliceShared, aliceOther, aliceRepo, "w/alice-private-branch", "alice-private-prompt" })
        {
            Assert.DoesNotContain(secret, seen, StringComparison.Ordinal);
        }

        Assert.Equal(["Waiting for branch w/shared: another run of this branch is active or goes first (position 1)"], await WaitingMessagesAsync(bob, bobBranch));
        Assert.Equal(["Waiting for a free worker (position 1)"], await WaitingMessagesAsync(bob, bobWorker));
        foreach (var path in new[] { $"/runs/{aliceShared}", $"/runs/{aliceShared}/events" })
        {
            Assert.Equal(System.Net.HttpStatusCode.NotFound, (await ApiClient.GetAsync(bob, path)).Status);
        }

        await File.WriteAllTextAsync(gate, "", ServerFixture.Ct);
        foreach (var (client, id) in new[] { (alice, aliceShared), (alice, aliceOther), (bob, bobBranch), (bob, bobWorker) })
        {
            var run = await EngineTestKit.WaitTerminalAsync(client, id);
            Assert.True(run.GetProperty("status").GetString() == "success", run.ToString());
        }
    }

    private static async Task<string> StartRunAsync(ServerFixture server, HttpClient client, string repo, string branch, string script) =>
        (await StartWithAnswerAsync(server, client, repo, branch, script)).RunId;

    /// <summary>The server's clock stands still: a step between starts orders the runs as started (the claim orders by creation time, then id).</summary>
    private static async Task<(string RunId, JsonElement Answer)> StartWithAnswerAsync(ServerFixture server, HttpClient client, string repo, string branch, string script)
    {
        server.Time.Advance(TimeSpan.FromMilliseconds(5));
        var start = await ApiClient.StartRunAsync(client, new { repoId = repo, harness = "exec", prompt = script, createBranch = true, workingBranch = branch });
        return (start.Data.GetProperty("runId").GetString()!, start.Data);
    }

    private static async Task<JsonElement> GetRunAsync(HttpClient client, string runId) =>
        (await ApiClient.GetAsync(client, $"/runs/{runId}")).Data.GetProperty("run");

    private static (int Position, string WaitingFor) Place(JsonElement run)
    {
        var queue = run.GetProperty("queue");
        Assert.True(queue.ValueKind == JsonValueKind.Object, run.ToString());
        return (queue.GetProperty("position").GetInt32(), queue.GetProperty("waitingFor").GetString()!);
    }

    private static Task<JsonElement> WaitStatusAsync(HttpClient client, string runId, string status) =>
        Waits.UntilAsync(() => GetRunAsync(client, runId), r => r.GetProperty("status").GetString() == status, TimeSpan.FromSeconds(60), $"run {runId} to be {status}");

    private static Task<List<string>> WaitForWaitingEventsAsync(HttpClient client, string runId, int count) =>
        Waits.UntilAsync(() => WaitingMessagesAsync(client, runId), m => m.Count >= count, TimeSpan.FromSeconds(30), $"{count} waiting event(s) of run {runId}");

    /// <summary>The messages of the run's "Waiting ..." log events; each event is also checked against the published log schema.</summary>
    private static async Task<List<string>> WaitingMessagesAsync(HttpClient client, string runId)
    {
        var waiting = (await EngineTestKit.AllEventsAsync(client, runId))
            .Where(e => e.GetProperty("type").GetString() == "log" && e.GetProperty("message").GetString()!.StartsWith("Waiting", StringComparison.Ordinal))
            .ToList();
        foreach (var e in waiting)
        {
            Events.EventSchemaValidator.AssertValid(e);
            Assert.Equal("queue", e.GetProperty("payload").GetProperty("stage").GetString());
        }

        return [.. waiting.Select(e => e.GetProperty("message").GetString()!)];
    }
}
