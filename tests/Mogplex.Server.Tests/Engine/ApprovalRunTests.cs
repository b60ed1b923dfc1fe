using System.Net;
using System.Text.Json;
using Mogplex.Server.Tests.Infrastructure;

namespace Mogplex.Server.Tests.Engine;

/// <summary>
/// Permission mode <c>approval</c> end to end with both real CLIs on the model stand-in
/// (interactive.md): an ask waits as a pending approval a person decides over the API; a rule
/// answers at once without a queue item; the same policy gives the same result for Codex and
/// Claude Code. The stand-in's <c>[[write hello.txt hi]]</c> is a shell tool call (Codex
/// <c>exec_command</c>, Claude <c>Bash</c>).
/// </summary>
public sealed class ApprovalRunTests
{
    private const string Prompt = "Create hello.txt [[write hello.txt hi]]";

    private static readonly string[] s_denyPrintf = ["bash:*printf*@project"];
    private static readonly string[] s_allowPrintf = ["bash:printf *"];
    private static readonly string[] s_denyRm = ["bash:rm *"];

    public static TheoryData<string> Harnesses() => new() { "codex", "claude-code" };

    [Theory]
    [MemberData(nameof(Harnesses))]
    public async Task Ask_Approved_TheFileIsDelivered_AndTheRunSaidItWaited(string harness)
    {
        var (server, model, client, repo, source) = await AgentHarnessRunTests.StartAsync();
        await using var _ = server;
        await using var __ = model;
        var runId = await StartAsync(client, repo, harness, "approve/" + harness);

        var pending = await WaitPendingAsync(client, runId);
        var run = (await ApiClient.GetAsync(client, $"/runs/{runId}")).Data.GetProperty("run");
        Assert.Equal("approval", run.GetProperty("awaiting").GetString());
        Assert.Equal(1, run.GetProperty("pendingApprovals").GetInt32());
        Assert.Equal("approval", run.GetProperty("permissionMode").GetString());
        Assert.Equal("run_command", pending.GetProperty("action").GetString());
        Assert.Contains("hello.txt", pending.GetProperty("target").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("bash:", pending.GetProperty("descriptors")[0].GetString(), StringComparison.Ordinal);

        var waiting = (await ApiClient.GetAsync(client, "/runs?awaiting=approval")).Data.GetProperty("runs");
        Assert.Equal(runId, Assert.Single(waiting.EnumerateArray()).GetProperty("runId").GetString());
        Assert.Equal("approval", waiting[0].GetProperty("awaiting").GetString());
        Assert.Empty((await ApiClient.GetAsync(client, "/runs?awaiting=input")).Data.GetProperty("runs").EnumerateArray());
        Assert.Equal(HttpStatusCode.BadRequest, (await ApiClient.GetAsync(client, "/runs?awaiting=coffee")).Status);

        var decided = await DecideAsync(client, runId, pending, "approve");
        Assert.Equal(HttpStatusCode.OK, decided.Status);
        Assert.Equal("approved", decided.Data.GetProperty("approval").GetProperty("status").GetString());
        var end = await EngineTestKit.WaitTerminalAsync(client, runId);

        Assert.True(end.GetProperty("status").GetString() == "success", await DescribeAsync(client, runId));
        Assert.Equal("hi", GitRepos.Git(source, "show", $"approve/{harness}:hello.txt"));
        Assert.Null(end.GetProperty("awaiting").GetString());
        Assert.Empty((await ApiClient.GetAsync(client, "/runs?awaiting=approval")).Data.GetProperty("runs").EnumerateArray());
        var events = await EngineTestKit.AllEventsAsync(client, runId);
        Assert.Contains(events, e => e.GetProperty("type").GetString() == "approval_requested");
        var by = events.Single(e => e.GetProperty("type").GetString() == "approval_decided").GetProperty("payload");
        Assert.Equal("user", by.GetProperty("by").GetString());
        Assert.Equal("approve", by.GetProperty("decision").GetString());

        // The same answer again is 200; another is 409 with the stored approval.
        Assert.Equal(HttpStatusCode.OK, (await DecideAsync(client, runId, pending, "approve")).Status);
        var conflict = await DecideAsync(client, runId, pending, "reject");
        Assert.Equal(HttpStatusCode.Conflict, conflict.Status);
        Assert.Equal("APPROVAL_CLOSED", conflict.ErrorCode);
        Assert.Equal("approved", conflict.Data.GetProperty("approval").GetProperty("status").GetString());
    }

    [Theory]
    [MemberData(nameof(Harnesses))]
    public async Task Ask_Rejected_NothingIsDelivered_AndTheModelWasTold(string harness)
    {
        var (server, model, client, repo, source) = await AgentHarnessRunTests.StartAsync();
        await using var _ = server;
        await using var __ = model;
        var runId = await StartAsync(client, repo, harness, "reject/" + harness);

        var pending = await WaitPendingAsync(client, runId);
        var calls = model.Requests.Count;
        Assert.Equal(HttpStatusCode.OK, (await DecideAsync(client, runId, pending, "reject", "not in this repo")).Status);
        var end = await EngineTestKit.WaitTerminalAsync(client, runId);

        Assert.True(end.GetProperty("status").GetString() == "success", await DescribeAsync(client, runId));
        Assert.Throws<InvalidOperationException>(() => GitRepos.Git(source, "show", $"reject/{harness}:hello.txt"));
        // The model's next request carries the rejection as the tool's result.
        Assert.Contains(model.Requests.Skip(calls), r => r.Body.Contains("reject", StringComparison.OrdinalIgnoreCase) || r.Body.Contains("not in this repo", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Harnesses))]
    public async Task RuleDeny_AnsweredAtOnce_NoApprovalStored_NothingDelivered(string harness)
    {
        var (server, model, client, repo, source) = await AgentHarnessRunTests.StartAsync();
        await using var _ = server;
        await using var __ = model;
        var runId = await StartAsync(client, repo, harness, "deny/" + harness, new { deny = s_denyPrintf });

        var end = await EngineTestKit.WaitTerminalAsync(client, runId);

        Assert.True(end.GetProperty("status").GetString() == "success", await DescribeAsync(client, runId));
        Assert.Throws<InvalidOperationException>(() => GitRepos.Git(source, "show", $"deny/{harness}:hello.txt"));
        Assert.Empty((await ApiClient.GetAsync(client, $"/runs/{runId}/approvals?status=all")).Data.GetProperty("approvals").EnumerateArray());
        var decided = (await EngineTestKit.AllEventsAsync(client, runId)).Single(e => e.GetProperty("type").GetString() == "approval_decided").GetProperty("payload");
        Assert.Equal("rule", decided.GetProperty("by").GetString());
        Assert.Equal("reject", decided.GetProperty("decision").GetString());
        Assert.Equal("bash:*printf*@project", decided.GetProperty("rule").GetString());
        Assert.Equal("project", decided.GetProperty("ruleSource").GetString());
    }

    [Theory]
    [MemberData(nameof(Harnesses))]
    public async Task RuleAllow_AnsweredAtOnce_NoApprovalStored_Delivered(string harness)
    {
        var (server, model, client, repo, source) = await AgentHarnessRunTests.StartAsync();
        await using var _ = server;
        await using var __ = model;
        var runId = await StartAsync(client, repo, harness, "allow/" + harness, new { allow = s_allowPrintf, deny = s_denyRm });

        var end = await EngineTestKit.WaitTerminalAsync(client, runId);

        Assert.True(end.GetProperty("status").GetString() == "success", await DescribeAsync(client, runId));
        Assert.Equal("hi", GitRepos.Git(source, "show", $"allow/{harness}:hello.txt"));
        Assert.Empty((await ApiClient.GetAsync(client, $"/runs/{runId}/approvals?status=all")).Data.GetProperty("approvals").EnumerateArray());
        var decided = (await EngineTestKit.AllEventsAsync(client, runId)).Single(e => e.GetProperty("type").GetString() == "approval_decided").GetProperty("payload");
        Assert.Equal("rule", decided.GetProperty("by").GetString());
        Assert.Equal("approve", decided.GetProperty("decision").GetString());
    }

    [Theory]
    [MemberData(nameof(Harnesses))]
    public async Task Ask_NobodyAnswersInTime_RejectedByTimeout(string harness)
    {
        var (server, model, client, repo, source) = await AgentHarnessRunTests.StartAsync();
        await using var _ = server;
        await using var __ = model;
        var runId = await StartAsync(client, repo, harness, "timeout/" + harness);
        var pending = await WaitPendingAsync(client, runId);

        // The server's clock: Runs:ApprovalTimeout (30 min) passes.
        server.Time.Advance(TimeSpan.FromMinutes(31));
        var end = await EngineTestKit.WaitTerminalAsync(client, runId);

        Assert.True(end.GetProperty("status").GetString() == "success", await DescribeAsync(client, runId));
        Assert.Throws<InvalidOperationException>(() => GitRepos.Git(source, "show", $"timeout/{harness}:hello.txt"));
        var stored = (await ApiClient.GetAsync(client, $"/runs/{runId}/approvals?status=all")).Data.GetProperty("approvals")[0];
        Assert.Equal(pending.GetProperty("id").GetString(), stored.GetProperty("id").GetString());
        Assert.Equal("rejected", stored.GetProperty("status").GetString());
        Assert.Equal("timeout", stored.GetProperty("decidedBy").GetString());
    }

    [Fact]
    public async Task Approvals_OfAnotherUsersRun_AreNotFound_BadInputIsRefused()
    {
        var (server, model, client, repo, _) = await AgentHarnessRunTests.StartAsync();
        await using var __ = server;
        await using var ___ = model;
        var runId = await StartAsync(client, repo, "codex", "owner/codex");
        var pending = await WaitPendingAsync(client, runId);
        var other = server.Client(await server.CreateTokenAsync("mallory"));

        Assert.Equal(HttpStatusCode.NotFound, (await ApiClient.GetAsync(other, $"/runs/{runId}/approvals")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await DecideAsync(other, runId, pending, "approve")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await ApiClient.PostAsync(client, $"/runs/{runId}/approvals/{pending.GetProperty("id").GetString()}", """{"decision":"maybe"}""")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await ApiClient.PostAsync(client, $"/runs/{runId}/approvals/{pending.GetProperty("id").GetString()}", "{\"decision\":\"reject\",\"reason\":\"" + new string('x', 1001) + "\"}")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await ApiClient.GetAsync(client, $"/runs/{runId}/approvals?status=some")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await ApiClient.PostAsync(client, $"/runs/{runId}/approvals/{Guid.NewGuid()}", """{"decision":"approve"}""")).Status);
        Assert.Equal(HttpStatusCode.OK, (await DecideAsync(client, runId, pending, "reject")).Status);
        await EngineTestKit.WaitTerminalAsync(client, runId);
    }

    [Theory]
    [InlineData("""{"permissionMode":"sometimes"}""", "permissionMode must be auto or approval")]
    [InlineData("""{"permissions":["bash:*"]}""", "permissions must be an object")]
    [InlineData("""{"permissions":{"maybe":["bash:*"]}}""", "unknown list 'maybe'")]
    [InlineData("""{"permissions":{"allow":"bash:*"}}""", "permissions.allow must be a list")]
    [InlineData("""{"permissions":{"allow":[42]}}""", "permissions.allow must hold strings")]
    [InlineData("""{"permissions":{"deny":["shell:ls"]}}""", "must start with bash:")]
    [InlineData("""{"model":"--dangerously"}""", "Invalid model")]
    [InlineData("""{"model":"gpt 5"}""", "Invalid model")]
    public async Task StartRun_BadPermissionFields_AreRefusedWithTheirMessage(string extra, string message)
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, _) = await GitRepos.LinkAsync(server);
        using var doc = JsonDocument.Parse(extra);
        var body = new Dictionary<string, object?> { ["repoId"] = repo, ["prompt"] = "x" };
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            body[p.Name] = p.Value.Clone();
        }

        var reply = await ApiClient.StartRunAsync(client, body);

        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Contains(message, reply.Json.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartRun_TooManyRules_Refused()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, _) = await GitRepos.LinkAsync(server);

        var reply = await ApiClient.StartRunAsync(client, new { repoId = repo, prompt = "x", permissions = new { allow = Enumerable.Range(0, 201).Select(i => $"bash:cmd{i}").ToArray() } });

        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Contains("more than 200 rules", reply.Json.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    private static async Task<string> StartAsync(HttpClient client, string repo, string harness, string branch, object? permissions = null)
    {
        var start = await ApiClient.StartRunAsync(client, new { repoId = repo, harness, prompt = Prompt, createBranch = true, workingBranch = branch, permissionMode = "approval", permissions });
        Assert.Equal(HttpStatusCode.Accepted, start.Status);
        return start.Data.GetProperty("runId").GetString()!;
    }

    private static async Task<JsonElement> WaitPendingAsync(HttpClient client, string runId) =>
        await Waits.UntilAsync(
            async () => (await ApiClient.GetAsync(client, $"/runs/{runId}/approvals")).Data.GetProperty("approvals").EnumerateArray().FirstOrDefault(),
            a => a.ValueKind == JsonValueKind.Object,
            TimeSpan.FromSeconds(60),
            $"an approval of run {runId}");

    private static Task<ApiClient.Reply> DecideAsync(HttpClient client, string runId, JsonElement approval, string decision, string? reason = null) =>
        ApiClient.PostAsync(client, $"/runs/{runId}/approvals/{approval.GetProperty("id").GetString()}", JsonSerializer.Serialize(new { decision, reason }));

    private static async Task<string> DescribeAsync(HttpClient client, string runId) =>
        string.Join("\n", (await EngineTestKit.AllEventsAsync(client, runId)).Select(e => e.GetRawText()));
}
