using System.Net;
using System.Text.Json;
using Mogplex.Server.Tests.Infrastructure;
using Mogplex.Storage;

namespace Mogplex.Server.Tests.Engine;

/// <summary>
/// Interactive runs end to end with both real CLIs on the model stand-in (interactive.md): the run
/// stays open after a turn (<c>awaiting: input</c>), a follow-up is a second turn of the same
/// conversation (the model's request holds the first), an interrupt stops a turn and keeps the
/// run, finish delivers what all turns did, and the idle limit finishes a run nobody talks to.
/// </summary>
public sealed class InteractiveRunTests
{
    public static TheoryData<string> Harnesses() => new() { "codex", "claude-code" };

    [Theory]
    [MemberData(nameof(Harnesses))]
    public async Task FollowUp_IsASecondTurnOfTheSameConversation_FinishDeliversBoth(string harness)
    {
        var (server, model, client, repo, source) = await AgentHarnessRunTests.StartAsync();
        await using var _ = server;
        await using var __ = model;
        var runId = await StartAsync(client, repo, harness, "chat/" + harness, "First turn [[write one.txt 1]] [[say first done]]");

        var waiting = await WaitAwaitingInputAsync(client, runId, turns: 1);
        Assert.Equal("streaming", waiting.GetProperty("status").GetString());
        Assert.True(waiting.GetProperty("interactive").GetBoolean());
        Assert.Equal(runId, Assert.Single((await ApiClient.GetAsync(client, "/runs?awaiting=input")).Data.GetProperty("runs").EnumerateArray()).GetProperty("runId").GetString());
        var firstTurnCalls = model.Requests.Count;

        var sent = await ApiClient.PostAsync(client, $"/runs/{runId}/messages", JsonSerializer.Serialize(new { text = "Second turn [[write two.txt 2]] [[say second done]]" }));
        Assert.Equal(HttpStatusCode.Accepted, sent.Status);
        Assert.False(sent.Data.GetProperty("queued").GetBoolean());
        var messageId = sent.Data.GetProperty("messageId").GetString();
        await WaitAwaitingInputAsync(client, runId, turns: 2);

        // The second turn's model requests carry the first turn: one conversation.
        Assert.Contains(model.Requests.Skip(firstTurnCalls), r => r.Body.Contains("First turn", StringComparison.Ordinal) && r.Body.Contains("Second turn", StringComparison.Ordinal));
        var finish = await ApiClient.PostAsync(client, $"/runs/{runId}/finish");
        Assert.Equal(HttpStatusCode.Accepted, finish.Status);
        var end = await EngineTestKit.WaitTerminalAsync(client, runId);

        Assert.True(end.GetProperty("status").GetString() == "success", await DescribeAsync(client, runId));
        Assert.Equal("1", GitRepos.Git(source, "show", $"chat/{harness}:one.txt"));
        Assert.Equal("2", GitRepos.Git(source, "show", $"chat/{harness}:two.txt"));
        Assert.Equal(2, end.GetProperty("turns").GetInt32());
        Assert.Null(end.GetProperty("awaiting").GetString());
        Assert.True(end.GetProperty("usage").GetProperty("inputTokens").GetInt64() > 0);
        var events = await EngineTestKit.AllEventsAsync(client, runId);
        var message = Assert.Single(events, e => e.GetProperty("type").GetString() == "user_message");
        Assert.Equal(messageId, message.GetProperty("payload").GetProperty("messageId").GetString());
        Assert.Equal("queue", message.GetProperty("payload").GetProperty("mode").GetString());
        Assert.Equal(2, events.Count(e => e.GetProperty("type").GetString() == "turn_completed"));

        // Ended: nothing more is taken.
        var late = await ApiClient.PostAsync(client, $"/runs/{runId}/messages", """{"text":"too late"}""");
        Assert.Equal(HttpStatusCode.Conflict, late.Status);
        Assert.Equal("RUN_TERMINAL", late.ErrorCode);
    }

    [Theory]
    [MemberData(nameof(Harnesses))]
    public async Task Interrupt_StopsTheTurn_TheRunStaysOpen_AndTakesTheNextMessage(string harness)
    {
        var (server, model, client, repo, source) = await AgentHarnessRunTests.StartAsync();
        await using var _ = server;
        await using var __ = model;
        var runId = await StartAsync(client, repo, harness, "interrupt/" + harness, "Think forever [[hang]]");
        await Waits.UntilAsync(
            async () => await EngineTestKit.AllEventsAsync(client, runId),
            events => events.Any(e => e.GetProperty("type").GetString() == "turn_started"),
            TimeSpan.FromSeconds(60),
            "the first turn to start");
        await Waits.UntilAsync(() => Task.FromResult(model.Requests.Count), n => n > 0, TimeSpan.FromSeconds(60), "the model to be asked");

        Assert.Equal(HttpStatusCode.Accepted, (await ApiClient.PostAsync(client, $"/runs/{runId}/interrupt")).Status);
        await WaitAwaitingInputAsync(client, runId, turns: 1);
        var interrupted = (await EngineTestKit.AllEventsAsync(client, runId)).Single(e => e.GetProperty("type").GetString() == "turn_completed");
        Assert.Equal("interrupted", interrupted.GetProperty("payload").GetProperty("status").GetString());

        Assert.Equal(HttpStatusCode.Accepted, (await ApiClient.PostAsync(client, $"/runs/{runId}/messages", """{"text":"Now write it [[write after.txt ok]]"}""")).Status);
        await WaitAwaitingInputAsync(client, runId, turns: 2);
        Assert.Equal(HttpStatusCode.Accepted, (await ApiClient.PostAsync(client, $"/runs/{runId}/finish")).Status);
        var end = await EngineTestKit.WaitTerminalAsync(client, runId);

        Assert.True(end.GetProperty("status").GetString() == "success", await DescribeAsync(client, runId));
        Assert.Equal("ok", GitRepos.Git(source, "show", $"interrupt/{harness}:after.txt"));
    }

    [Theory]
    [MemberData(nameof(Harnesses))]
    public async Task FinishDuringATurn_InterruptsIt_AndDeliversWhatTheTurnsDid(string harness)
    {
        var (server, model, client, repo, source) = await AgentHarnessRunTests.StartAsync();
        await using var _ = server;
        await using var __ = model;
        var runId = await StartAsync(client, repo, harness, "finish-busy/" + harness, "Write first [[write early.txt e]]");
        await WaitAwaitingInputAsync(client, runId, turns: 1);
        var calls = model.Requests.Count;
        Assert.Equal(HttpStatusCode.Accepted, (await ApiClient.PostAsync(client, $"/runs/{runId}/messages", """{"text":"Now think forever [[hang]]"}""")).Status);
        await Waits.UntilAsync(() => Task.FromResult(model.Requests.Count), n => n > calls, TimeSpan.FromSeconds(60), "the model to be asked in the second turn");

        Assert.Equal(HttpStatusCode.Accepted, (await ApiClient.PostAsync(client, $"/runs/{runId}/finish")).Status);
        var end = await EngineTestKit.WaitTerminalAsync(client, runId);

        Assert.True(end.GetProperty("status").GetString() == "success", await DescribeAsync(client, runId));
        Assert.Equal("e", GitRepos.Git(source, "show", $"finish-busy/{harness}:early.txt"));
        var turns = (await EngineTestKit.AllEventsAsync(client, runId)).Where(e => e.GetProperty("type").GetString() == "turn_completed").Select(e => e.GetProperty("payload").GetProperty("status").GetString());
        Assert.Equal(["completed", "interrupted"], turns);
    }

    [Fact]
    public async Task NobodyTalksToIt_TheIdleLimitFinishesIt()
    {
        var (server, model, client, repo, source) = await AgentHarnessRunTests.StartAsync();
        await using var _ = server;
        await using var __ = model;
        var runId = await StartAsync(client, repo, "codex", "idle/codex", "One turn [[write idle.txt i]]");
        await WaitAwaitingInputAsync(client, runId, turns: 1);

        // The server's clock: Runs:InteractiveIdle (30 min) passes.
        server.Time.Advance(TimeSpan.FromMinutes(31));
        var end = await EngineTestKit.WaitTerminalAsync(client, runId);

        Assert.True(end.GetProperty("status").GetString() == "success", await DescribeAsync(client, runId));
        Assert.Equal("i", GitRepos.Git(source, "show", "idle/codex:idle.txt"));
        Assert.Contains(await EngineTestKit.AllEventsAsync(client, runId), e => e.GetProperty("message").GetString()!.StartsWith("Finishing: no turn and no input", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Cancel_WhileItWaitsForInput_EndsItCancelled()
    {
        var (server, model, client, repo, _) = await AgentHarnessRunTests.StartAsync();
        await using var __ = server;
        await using var ___ = model;
        var runId = await StartAsync(client, repo, "claude-code", "cancel-idle/claude", "One turn [[say hi]]");
        await WaitAwaitingInputAsync(client, runId, turns: 1);

        Assert.Equal(HttpStatusCode.OK, (await ApiClient.PostAsync(client, $"/runs/{runId}/cancel")).Status);
        var end = await EngineTestKit.WaitTerminalAsync(client, runId);

        Assert.Equal("cancelled", end.GetProperty("status").GetString());
    }

    /// <summary>A run kept open across a restart that no worker holds yet has no harness to stop: cancel ends it at once.</summary>
    [Fact]
    public async Task Cancel_OfARunKeptOpenAcrossARestart_EndsItInPlace()
    {
        var (server, model, client, repo, _) = await AgentHarnessRunTests.StartAsync(_ => new Dictionary<string, string?> { ["Runs:Workers"] = "false" });
        await using var __ = server;
        await using var ___ = model;
        var runId = (await ApiClient.StartRunAsync(client, new { repoId = repo, harness = "codex", prompt = "x", interactive = true })).Data.GetProperty("runId").GetString()!;
        var store = server.Store;
        Assert.Equal(runId, (await store.Queue.ClaimNextAsync(new("node-x", "exec-1", DateTimeOffset.UtcNow, TimeSpan.FromMinutes(1)), ServerFixture.Ct))?.Id);
        await store.Runs.TransitionAsync(new RunTransition { RunId = runId, From = ["pending"], To = "streaming", At = DateTimeOffset.UtcNow, ExpectedLeaseOwner = "node-x" }, ServerFixture.Ct);
        Assert.True(await store.Sessions.ReleaseAsync(runId, "node-x", DateTimeOffset.UtcNow, [], ServerFixture.Ct));

        var cancelled = await ApiClient.PostAsync(client, $"/runs/{runId}/cancel");

        Assert.Equal(HttpStatusCode.OK, cancelled.Status);
        Assert.Equal("cancelled", cancelled.Data.GetProperty("status").GetString());
        Assert.Contains(await EngineTestKit.AllEventsAsync(client, runId), e => e.GetProperty("message").GetString() == "Run cancelled while it waited to be resumed");
    }

    [Fact]
    public async Task Inputs_AreRefusedClearly_ForBadBodies_OtherUsers_AndOneShotRuns()
    {
        var (server, model, client, repo, _) = await AgentHarnessRunTests.StartAsync(_ => new Dictionary<string, string?> { ["Runs:Workers"] = "false" });
        await using var __ = server;
        await using var ___ = model;
        var interactive = (await ApiClient.StartRunAsync(client, new { repoId = repo, harness = "codex", prompt = "x", interactive = true })).Data.GetProperty("runId").GetString();
        var oneShot = (await ApiClient.StartRunAsync(client, new { repoId = repo, harness = "codex", prompt = "y", workingBranch = "w/one", createBranch = true })).Data.GetProperty("runId").GetString();
        var other = server.Client(await server.CreateTokenAsync("mallory"));

        Assert.Equal(HttpStatusCode.BadRequest, (await ApiClient.PostAsync(client, $"/runs/{interactive}/messages", "{}")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await ApiClient.PostAsync(client, $"/runs/{interactive}/messages", """{"text":"  "}""")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await ApiClient.PostAsync(client, $"/runs/{interactive}/messages", """{"text":42}""")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await ApiClient.PostAsync(client, $"/runs/{interactive}/messages", """{"text":"x","mode":"shout"}""")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await ApiClient.PostAsync(client, $"/runs/{interactive}/messages", "[1]")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await ApiClient.PostAsync(client, $"/runs/{interactive}/messages", "{\"text\":\"" + new string('x', 100_001) + "\"}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await ApiClient.PostAsync(other, $"/runs/{interactive}/messages", """{"text":"hi"}""")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await ApiClient.PostAsync(other, $"/runs/{interactive}/interrupt")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await ApiClient.PostAsync(other, $"/runs/{interactive}/finish")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await ApiClient.PostAsync(client, $"/runs/{Guid.NewGuid()}/finish")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await ApiClient.PostAsync(client, "/runs/not-an-id/messages", """{"text":"hi"}""")).Status);
        var notInteractive = await ApiClient.PostAsync(client, $"/runs/{oneShot}/messages", """{"text":"hi"}""");
        Assert.Equal(HttpStatusCode.Conflict, notInteractive.Status);
        Assert.Equal("RUN_NOT_INTERACTIVE", notInteractive.ErrorCode);
        Assert.Equal("RUN_NOT_INTERACTIVE", (await ApiClient.PostAsync(client, $"/runs/{oneShot}/interrupt")).ErrorCode);

        // exec runs one script: it has no conversation.
        var exec = await ApiClient.StartRunAsync(client, new { repoId = repo, harness = "exec", prompt = "true", interactive = true });
        Assert.Equal(HttpStatusCode.BadRequest, exec.Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await ApiClient.StartRunAsync(client, new { repoId = repo, prompt = "x", interactive = "yes" })).Status);
        // Nothing refused was stored.
        Assert.DoesNotContain(await EngineTestKit.AllEventsAsync(client, interactive!), e => e.GetProperty("type").GetString() is "user_message" or "log");
        Assert.Empty(await server.Store.Sessions.TakeInputsAsync(interactive!, DateTimeOffset.UtcNow, ServerFixture.Ct));
    }

    [Fact]
    public async Task Messages_WithAnIdempotencyKey_AreStoredOnce_AndConcurrentOnesAllKeepTheirOrder()
    {
        var (server, model, client, repo, _) = await AgentHarnessRunTests.StartAsync(_ => new Dictionary<string, string?> { ["Runs:Workers"] = "false" });
        await using var __ = server;
        await using var ___ = model;
        var runId = (await ApiClient.StartRunAsync(client, new { repoId = repo, harness = "claude-code", prompt = "x", interactive = true })).Data.GetProperty("runId").GetString()!;

        var first = await ApiClient.PostAsync(client, $"/runs/{runId}/messages", """{"text":"same"}""", new Dictionary<string, string> { ["Idempotency-Key"] = "k1" });
        var again = await ApiClient.PostAsync(client, $"/runs/{runId}/messages", """{"text":"same"}""", new Dictionary<string, string> { ["Idempotency-Key"] = "k1" });
        var conflict = await ApiClient.PostAsync(client, $"/runs/{runId}/messages", """{"text":"different"}""", new Dictionary<string, string> { ["Idempotency-Key"] = "k1" });
        Assert.Equal(first.Data.GetProperty("messageId").GetString(), again.Data.GetProperty("messageId").GetString());
        Assert.Equal(HttpStatusCode.Conflict, conflict.Status);
        Assert.Equal("IDEMPOTENCY_CONFLICT", conflict.ErrorCode);

        var sends = Enumerable.Range(0, 40).Select(i => ApiClient.PostAsync(client, $"/runs/{runId}/messages", JsonSerializer.Serialize(new { text = $"m{i}" })));
        var replies = await Task.WhenAll(sends);
        Assert.All(replies, r => Assert.Equal(HttpStatusCode.Accepted, r.Status));

        // Every message once, in the order they were stored (one user_message event each).
        var taken = await server.Store.Sessions.TakeInputsAsync(runId, DateTimeOffset.UtcNow, ServerFixture.Ct);
        Assert.Equal(41, taken.Count);
        Assert.Equal(taken.Select(t => t.Id).Distinct().Count(), taken.Count);
        var messages = (await EngineTestKit.AllEventsAsync(client, runId)).Where(e => e.GetProperty("type").GetString() == "user_message").Select(e => e.GetProperty("payload").GetProperty("messageId").GetString()).ToList();
        Assert.Equal(taken.Select(t => t.Id), messages);
        Assert.Empty(await server.Store.Sessions.TakeInputsAsync(runId, DateTimeOffset.UtcNow, ServerFixture.Ct));
    }

    private static async Task<string> StartAsync(HttpClient client, string repo, string harness, string branch, string prompt)
    {
        var start = await ApiClient.StartRunAsync(client, new { repoId = repo, harness, prompt, createBranch = true, workingBranch = branch, interactive = true });
        Assert.Equal(HttpStatusCode.Accepted, start.Status);
        Assert.True(start.Data.GetProperty("interactive").GetBoolean());
        return start.Data.GetProperty("runId").GetString()!;
    }

    private static async Task<JsonElement> WaitAwaitingInputAsync(HttpClient client, string runId, int turns) =>
        await Waits.UntilAsync(
            async () => (await ApiClient.GetAsync(client, $"/runs/{runId}")).Data.GetProperty("run"),
            r => r.GetProperty("awaiting").GetString() == "input" && r.GetProperty("turns").GetInt32() == turns || RunStatusIsTerminal(r),
            TimeSpan.FromSeconds(90),
            $"run {runId} to wait for input after turn {turns}") is var run && RunStatusIsTerminal(run)
            ? throw new Xunit.Sdk.XunitException($"the run ended: {await DescribeAsync(client, runId)}")
            : run;

    private static bool RunStatusIsTerminal(JsonElement run) => run.GetProperty("status").GetString() is "success" or "failed" or "cancelled";

    private static async Task<string> DescribeAsync(HttpClient client, string runId) =>
        string.Join("\n", (await EngineTestKit.AllEventsAsync(client, runId)).Select(e => e.GetRawText()));
}
