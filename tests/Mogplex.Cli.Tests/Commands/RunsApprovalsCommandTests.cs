using System.Net;
using System.Text.Json.Nodes;
using Mogplex.Cli.Tests.Infrastructure;

namespace Mogplex.Cli.Tests.Commands;

/// <summary>
/// <c>mogplex runs approvals | approve | reject</c> and the permission flags of <c>mogplex run</c>
/// (mogplexd, interactive.md): readable lines, <c>--json</c>, exit codes per cli.md, and a clear
/// error from a server without these routes (the hosted service).
/// </summary>
public sealed class RunsApprovalsCommandTests : IDisposable
{
    private const string Pending = """{"approvals":[{"id":"ap_1","runId":"r1","status":"pending","action":"run_command","descriptors":["bash:git push origin main"],"target":"git push origin main","risk":"high","toolName":"Bash","details":{"command":"git push origin main"},"createdAt":"2026-12-07T10:00:00.000Z"}]}""";

    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task Approvals_PendingOnes_OneLineEach()
    {
        _cli.Http.Get("/runs/r1/approvals?status=pending").Ok(Pending);

        var result = await _cli.RunAsync("runs", "approvals", "r1");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal(["ap_1  pending   high    run_command: git push origin main"], result.StdoutLines);
        Assert.Empty(result.Stderr);
    }

    [Fact]
    public async Task Approvals_AllAndNone_SaysSo_JsonIsTheApiObject()
    {
        _cli.Http.Get("/runs/r1/approvals?status=all").Ok("""{"approvals":[]}""");
        var none = await _cli.RunAsync("runs", "approvals", "r1", "--all");
        _cli.Http.Get("/runs/r2/approvals?status=pending").Ok(Pending);
        var json = await _cli.RunAsync("runs", "approvals", "r2", "--json");

        Assert.Equal(["no approvals"], none.StdoutLines);
        Assert.Equal("ap_1", JsonNode.Parse(json.Stdout)!["approvals"]![0]!["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Approvals_HostileTarget_IsOneNeutralizedLine()
    {
        _cli.Http.Get("/runs/r1/approvals?status=pending").Ok(Pending.Replace("\"target\":\"git push origin main\"", "\"target\":\"ok\\nfake line\\u001b[31m\\u202e\"", StringComparison.Ordinal));

        var result = await _cli.RunAsync("runs", "approvals", "r1");

        var line = Assert.Single(result.StdoutLines);
        Assert.DoesNotContain('\u001b', line);
        Assert.DoesNotContain('\u202e', line);
    }

    [Theory]
    [InlineData("approve", null, """{"decision":"approve"}""")]
    [InlineData("reject", null, """{"decision":"reject"}""")]
    [InlineData("reject", "not on main", """{"decision":"reject","reason":"not on main"}""")]
    public async Task Decide_SendsTheDecision_SaysTheStatus(string verb, string? reason, string body)
    {
        var status = verb == "approve" ? "approved" : "rejected";
        _cli.Http.Post("/runs/r1/approvals/ap_1").Ok("{\"approval\":{\"id\":\"ap_1\",\"status\":\"" + status + "\"}}");

        var result = reason is null ? await _cli.RunAsync("runs", verb, "r1", "ap_1") : await _cli.RunAsync("runs", verb, "r1", "ap_1", "--reason", reason);

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal([$"approval ap_1 {status}"], result.StdoutLines);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(body), JsonNode.Parse(_cli.SingleRequest.Body!)));
    }

    [Fact]
    public async Task Decide_AlreadyClosedOtherwise_IsAnErrorExitOne()
    {
        _cli.Http.Post("/runs/r1/approvals/ap_1").Error(HttpStatusCode.Conflict, "APPROVAL_CLOSED", "The approval is already approved");

        var result = await _cli.RunAsync("runs", "reject", "r1", "ap_1");

        Assert.Equal(ExitCodes.Failure, result.Exit);
        Assert.Equal(["error: The approval is already approved (APPROVAL_CLOSED)"], result.StderrLines);
    }

    [Fact]
    public async Task Decide_ReasonTooLong_IsAUsageError_NothingSent()
    {
        var result = await _cli.RunAsync("runs", "reject", "r1", "ap_1", "--reason", new string('x', 1001));

        Assert.Equal(ExitCodes.Usage, result.Exit);
        Assert.Empty(_cli.Http.Requests);
    }

    [Theory]
    [InlineData("approvals")]
    [InlineData("approve")]
    [InlineData("reject")]
    public async Task ServerWithoutTheRoutes_ClearErrorExitOne(string verb)
    {
        if (verb == "approvals")
        {
            _cli.Http.Get("/runs/r1/approvals?status=pending").Text(HttpStatusCode.NotFound, "text/html", "<html>404</html>");
        }
        else
        {
            _cli.Http.Post("/runs/r1/approvals/ap_1").Text(HttpStatusCode.NotFound, "text/html", "<html>404</html>");
        }

        var result = verb == "approvals" ? await _cli.RunAsync("runs", verb, "r1") : await _cli.RunAsync("runs", verb, "r1", "ap_1");

        Assert.Equal(ExitCodes.Failure, result.Exit);
        Assert.Equal([$"error: runs {verb} needs a mogplexd server (this server has no approvals; see MOGPLEX_URL)"], result.StderrLines);
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public async Task Run_PermissionFlags_GoInTheBody()
    {
        _cli.Http.Post("/runs").Ok("""{"runId":"r1","status":"pending","repoId":"repo","harness":"codex","branch":{"base":"main","working":"main","createBranch":false},"replayed":false}""", HttpStatusCode.Accepted);

        var result = await _cli.RunAsync("run", "--repo", "repo", "--permission-mode", "approval", "--model", "gpt-5.5", "--allow", "bash:git status*", "--allow", "read:*", "--deny", "bash:git push*", "tidy up");

        Assert.Equal(ExitCodes.Success, result.Exit);
        var body = JsonNode.Parse(_cli.SingleRequest.Body!)!;
        Assert.Equal("approval", body["permissionMode"]!.GetValue<string>());
        Assert.Equal("gpt-5.5", body["model"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"allow":["bash:git status*","read:*"],"deny":["bash:git push*"]}"""), body["permissions"]));
    }

    [Theory]
    [InlineData("approval")]
    [InlineData("input")]
    public async Task RunsList_Awaiting_IsTheServersFilter(string awaiting)
    {
        _cli.Http.Get($"/runs?awaiting={awaiting}").Ok("""{"runs":[],"nextCursor":null}""");

        var result = await _cli.RunAsync("runs", "list", "--awaiting", awaiting);

        Assert.Equal(ExitCodes.Success, result.Exit);
    }

    [Fact]
    public async Task RunsList_AwaitingSomethingElse_IsAUsageError()
    {
        var result = await _cli.RunAsync("runs", "list", "--awaiting", "coffee");

        Assert.Equal(ExitCodes.Usage, result.Exit);
        Assert.Empty(_cli.Http.Requests);
    }

    [Fact]
    public async Task Run_BadPermissionMode_IsAUsageError()
    {
        var result = await _cli.RunAsync("run", "--repo", "repo", "--permission-mode", "sometimes", "x");

        Assert.Equal(ExitCodes.Usage, result.Exit);
        Assert.Empty(_cli.Http.Requests);
    }
}
