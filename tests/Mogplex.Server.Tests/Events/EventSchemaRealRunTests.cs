using System.Net;
using System.Text.Json;
using Mogplex.Server.Tests.Engine;
using Mogplex.Server.Tests.Infrastructure;

namespace Mogplex.Server.Tests.Events;

/// <summary>
/// Real runs through the in-process server (the <c>exec</c> harness; the real Codex and Claude Code
/// CLIs on the model stand-in, as <see cref="AgentHarnessRunTests"/> runs them): every event they
/// store, read back over the API as a client reads it, validates against its type's published schema.
/// </summary>
public sealed class EventSchemaRealRunTests
{
    private static readonly string[] s_allowPrintf = ["bash:printf *"];

    private static readonly Dictionary<string, string?> s_exec = new() { ["Runs:Workers"] = "true", ["RateLimits:RequestsPerWindow"] = "100000", ["Sandbox:Isolation"] = "none" };

    [Fact]
    public async Task ExecRuns_SuccessFailureAndCancel_EveryEventValidates()
    {
        await using var server = await ServerFixture.StartAsync(s_exec);
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, _) = await GitRepos.LinkAsync(server);

        // A change delivered, stdout and stderr, and a line the sanitizer cuts.
        var ok = await StartAsync(client, new { repoId = repo, harness = "exec", prompt = "echo hi > hello.txt\necho wrote it\necho oops >&2\nhead -c 2500 /dev/zero | tr '\\0' x; echo", createBranch = true, workingBranch = "schemas/exec" });
        var failed = await StartAsync(client, new { repoId = repo, harness = "exec", prompt = "echo bye\nexit 3" });
        var cancelled = await StartAsync(client, new { repoId = repo, harness = "exec", prompt = "echo started\nsleep 300" });
        await Waits.UntilAsync(() => EngineTestKit.AllEventsAsync(client, cancelled), e => e.Any(x => x.GetProperty("message").GetString() == "started"), TimeSpan.FromSeconds(60), "the script to start");
        Assert.Equal(HttpStatusCode.OK, (await ApiClient.PostAsync(client, $"/runs/{cancelled}/cancel")).Status);

        Assert.Equal("success", (await EngineTestKit.WaitTerminalAsync(client, ok)).GetProperty("status").GetString());
        Assert.Equal("failed", (await EngineTestKit.WaitTerminalAsync(client, failed)).GetProperty("status").GetString());
        Assert.Equal("cancelled", (await EngineTestKit.WaitTerminalAsync(client, cancelled)).GetProperty("status").GetString());
        var events = new List<JsonElement>();
        foreach (var run in new[] { ok, failed, cancelled })
        {
            events.AddRange(await EngineTestKit.AllEventsAsync(client, run));
        }

        AssertAllValid(events, "started", "status_changed", "log", "finished", "failed", "cancel_requested", "cancelled");
        Assert.Contains(events, e => e.GetProperty("message").GetString()!.EndsWith("...[truncated 500 chars]", StringComparison.Ordinal));
    }

    /// <summary>
    /// An interactive run in approval mode (a rule allows the shell write, a person approves the
    /// edit, a follow-up is a second turn, finish delivers), then a run whose model answers 401.
    /// </summary>
    [Theory]
    [InlineData("codex")]
    [InlineData("claude-code")]
    public async Task AgentRuns_InteractiveApprovalsAndModelFailure_EveryEventValidates(string harness)
    {
        var (server, model, client, repo, _) = await AgentHarnessRunTests.StartAsync();
        await using var _s = server;
        await using var _m = model;

        var start = await ApiClient.StartRunAsync(client, new
        {
            repoId = repo,
            harness,
            prompt = "Edit, then write [[edit notes/a.txt line one]] [[write hello.txt hi]] [[say first done]]",
            createBranch = true,
            workingBranch = "schemas/" + harness,
            interactive = true,
            permissionMode = "approval",
            permissions = new { allow = s_allowPrintf },
        });
        Assert.Equal(HttpStatusCode.Accepted, start.Status);
        var runId = start.Data.GetProperty("runId").GetString()!;
        var pending = await Waits.UntilAsync(
            async () => (await ApiClient.GetAsync(client, $"/runs/{runId}/approvals")).Data.GetProperty("approvals").EnumerateArray().FirstOrDefault(),
            a => a.ValueKind == JsonValueKind.Object,
            TimeSpan.FromSeconds(90),
            "the edit's approval");
        Assert.Equal(HttpStatusCode.OK, (await ApiClient.PostAsync(client, $"/runs/{runId}/approvals/{pending.GetProperty("id").GetString()}", """{"decision":"approve"}""")).Status);
        await WaitAwaitingInputAsync(client, runId, turns: 1);
        Assert.Equal(HttpStatusCode.Accepted, (await ApiClient.PostAsync(client, $"/runs/{runId}/messages", """{"text":"Once more [[say second done]]"}""")).Status);
        await WaitAwaitingInputAsync(client, runId, turns: 2);
        Assert.Equal(HttpStatusCode.Accepted, (await ApiClient.PostAsync(client, $"/runs/{runId}/finish")).Status);
        var end = await EngineTestKit.WaitTerminalAsync(client, runId);
        var events = await EngineTestKit.AllEventsAsync(client, runId);
        Assert.True(end.GetProperty("status").GetString() == "success", string.Join("\n", events.Select(e => e.GetRawText())));

        var failing = await StartAsync(client, new { repoId = repo, harness, prompt = "Try [[fail401]]" });
        Assert.Equal("failed", (await EngineTestKit.WaitTerminalAsync(client, failing)).GetProperty("status").GetString());
        events.AddRange(await EngineTestKit.AllEventsAsync(client, failing));

        AssertAllValid(
            events,
            "started", "status_changed", "log", "finished", "failed", "stream_started", "assistant_message", "tool_call", "tool_result", "usage", "error",
            "turn_started", "turn_completed", "user_message", "approval_requested", "approval_decided");
        var decided = events.Where(e => e.GetProperty("type").GetString() == "approval_decided").Select(e => e.GetProperty("payload").GetProperty("by").GetString());
        Assert.Equal(["rule", "user"], decided.Order(StringComparer.Ordinal));
    }

    /// <summary>Every event validates, and together they include each of <paramref name="types"/>.</summary>
    internal static void AssertAllValid(IReadOnlyList<JsonElement> events, params string[] types)
    {
        var failures = events.Select(e => (Event: e, Errors: EventSchemaValidator.Errors(e))).Where(x => x.Errors.Count > 0).ToList();
        Assert.True(failures.Count == 0, string.Join("\n", failures.Select(f => f.Event.GetRawText() + "\n  " + string.Join("\n  ", f.Errors))));
        var seen = events.Select(e => e.GetProperty("type").GetString()!).ToHashSet(StringComparer.Ordinal);
        var missing = types.Where(t => !seen.Contains(t)).ToList();
        Assert.True(missing.Count == 0, "no event of type " + string.Join(", ", missing));
    }

    private static async Task<string> StartAsync(HttpClient client, object body)
    {
        var start = await ApiClient.StartRunAsync(client, body);
        Assert.Equal(HttpStatusCode.Accepted, start.Status);
        return start.Data.GetProperty("runId").GetString()!;
    }

    private static async Task WaitAwaitingInputAsync(HttpClient client, string runId, int turns)
    {
        var run = await Waits.UntilAsync(
            async () => (await ApiClient.GetAsync(client, $"/runs/{runId}")).Data.GetProperty("run"),
            r => r.GetProperty("awaiting").GetString() == "input" && r.GetProperty("turns").GetInt32() == turns || r.GetProperty("status").GetString() is "success" or "failed" or "cancelled",
            TimeSpan.FromSeconds(90),
            $"run {runId} to wait for input after turn {turns}");
        Assert.True(run.GetProperty("status").GetString() == "streaming", string.Join("\n", (await EngineTestKit.AllEventsAsync(client, runId)).Select(e => e.GetRawText())));
    }
}
