using System.Text.Json.Nodes;
using Mogplex.Cli.Tests.Infrastructure;

namespace Mogplex.Cli.Tests.Parsing;

/// <summary>argv → what reaches the server: every command and flag of cli.md, and the defaults.</summary>
public sealed class FlagParsingTests : IDisposable
{
    private static readonly string s_run = Api.Run(status: "pending").Json();

    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task Run_EveryFlag_BecomesItsBodyFieldAndHeader()
    {
        _cli.Http.Post("/runs").Ok(s_run, System.Net.HttpStatusCode.Accepted);

        var result = await _cli.RunAsync(
            "run", "--repo", "repo_1", "--harness", "claude-code", "--base-branch", "develop", "--branch", "fix/readme",
            "--create-branch", "--root", "packages/web", "--idempotency-key", "key-1", "--json", "Fix", "the typo");

        Assert.Equal(ExitCodes.Success, result.Exit);
        var request = _cli.SingleRequest;
        Assert.Equal(
            """{"repoId":"repo_1","prompt":"Fix the typo","harness":"claude-code","baseBranch":"develop","workingBranch":"fix/readme","createBranch":true,"rootDirectory":"packages/web"}""",
            request.Body);
        Assert.Equal("key-1", request.Header("Idempotency-Key"));
        Assert.Equal("application/json; charset=utf-8", request.Header("Content-Type"));
        Assert.Equal($"Bearer {CliHarness.Token}", request.Header("Authorization"));
        Assert.Equal($"mogplex/{VersionInfo.Version}", request.Header("User-Agent"));
    }

    [Fact]
    public async Task Run_Defaults_SendOnlyRepoAndPrompt()
    {
        // No createBranch unless flagged, no rootDirectory unless --root (omitted differs from null on the server),
        // harness and branches left to the server.
        _cli.Http.Post("/runs").Ok(s_run, System.Net.HttpStatusCode.Accepted);

        var result = await _cli.RunAsync("run", "--repo", "repo_1", "Fix the typo");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal("""{"repoId":"repo_1","prompt":"Fix the typo"}""", _cli.SingleRequest.Body);
    }

    [Fact]
    public async Task Run_WithoutIdempotencyKey_SendsAFreshUuidEachTime()
    {
        _cli.Http.Post("/runs").Ok(s_run, System.Net.HttpStatusCode.Accepted);
        Assert.Equal(ExitCodes.Success, (await _cli.RunAsync("run", "--repo", "repo_1", "go")).Exit);
        _cli.Http.Post("/runs").Ok(s_run, System.Net.HttpStatusCode.Accepted);
        Assert.Equal(ExitCodes.Success, (await _cli.RunAsync("run", "--repo", "repo_1", "go")).Exit);

        var keys = _cli.Http.Requests.Select(r => r.Header("Idempotency-Key")).ToList();
        Assert.All(keys, k => Assert.True(Guid.TryParseExact(k, "D", out _), $"not a UUID: {k}"));
        Assert.NotEqual(keys[0], keys[1]);
    }

    [Fact]
    public async Task Run_EmptyRootDirectory_IsSentAsGiven()
    {
        // --root "" is the user's explicit choice (the repo root); it is sent, not dropped.
        _cli.Http.Post("/runs").Ok(s_run, System.Net.HttpStatusCode.Accepted);

        await _cli.RunAsync("run", "--repo", "repo_1", "--root", "", "go");

        Assert.Equal("""{"repoId":"repo_1","prompt":"go","rootDirectory":""}""", _cli.SingleRequest.Body);
    }

    [Theory]
    [InlineData(new[] { "repos", "list" }, "/repos")]
    [InlineData(new[] { "repos", "list", "--query", "api", "--limit", "5" }, "/repos?q=api&limit=5")]
    [InlineData(new[] { "repos", "list", "-q", "a b&c" }, "/repos?q=a%20b%26c")]
    public async Task ReposList_Flags_BecomeQuery(string[] args, string expected)
    {
        _cli.Http.Get(expected).Ok("""{"repos":[]}""");

        var result = await _cli.RunAsync(args);

        Assert.Equal(ExitCodes.Success, result.Exit);
    }

    [Theory]
    [InlineData(new[] { "runs", "list" }, "/runs")]
    [InlineData(new[] { "runs", "list", "--repo", "repo_1", "--status", "failed", "--limit", "3" }, "/runs?repo_id=repo_1&status=failed&limit=3")]
    public async Task RunsList_Flags_BecomeQuery(string[] args, string expected)
    {
        _cli.Http.Get(expected).Ok("""{"runs":[],"nextCursor":null}""");

        Assert.Equal(ExitCodes.Success, (await _cli.RunAsync(args)).Exit);
    }

    [Theory]
    [InlineData(new[] { "sandboxes", "list" }, "/sandboxes")]
    [InlineData(new[] { "sandboxes", "list", "--repo", "repo_1", "--status", "running", "--limit", "7" }, "/sandboxes?repo_id=repo_1&status=running&limit=7")]
    public async Task SandboxesList_Flags_BecomeQuery(string[] args, string expected)
    {
        _cli.Http.Get(expected).Ok("""{"sandboxes":[]}""");

        Assert.Equal(ExitCodes.Success, (await _cli.RunAsync(args)).Exit);
    }

    [Theory]
    [InlineData(new[] { "runs", "events", "run_1" }, "/runs/run_1/events")]
    [InlineData(new[] { "runs", "events", "run_1", "--limit", "5" }, "/runs/run_1/events?limit=5")]
    [InlineData(new[] { "runs", "events", "run_1", "--json", "--limit", "200" }, "/runs/run_1/events?limit=200")]
    public async Task RunsEvents_Flags_BecomeQuery(string[] args, string expected)
    {
        _cli.Http.Get(expected).Ok(Api.EventsPage(Api.Run()));

        Assert.Equal(ExitCodes.Success, (await _cli.RunAsync(args)).Exit);
        Assert.Null(_cli.SingleRequest.Header("Accept"));
    }

    [Theory]
    [InlineData("--follow")]
    [InlineData("-f")]
    public async Task RunsEvents_Follow_AsksForTheLiveStream(string flag)
    {
        _cli.Http.Get("/runs/run_1/events").Sse(Api.SseEnd("run_1", "success"));

        var result = await _cli.RunAsync("runs", "events", "run_1", flag);

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal("text/event-stream", _cli.SingleRequest.Header("Accept"));
        Assert.Null(_cli.SingleRequest.Header("Last-Event-ID"));
    }

    [Fact]
    public async Task RunsGet_RunId_IsOnePathSegment()
    {
        _cli.Http.Get("/runs/a%2Fb%3Fc").Ok(new JsonObject { ["run"] = Api.Run() }.Json());

        var result = await _cli.RunAsync("runs", "get", "a/b?c");

        Assert.Equal(ExitCodes.Success, result.Exit);
    }

    [Fact]
    public async Task RunsCancel_PostsWithoutBody()
    {
        _cli.Http.Post("/runs/run_1/cancel").Ok(new JsonObject { ["run"] = Api.Run(status: "cancelled"), ["status"] = "cancelled", ["alreadyTerminal"] = false }.Json());

        var result = await _cli.RunAsync("runs", "cancel", "run_1");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Null(_cli.SingleRequest.Body);
    }

    [Fact]
    public async Task SandboxesStop_PostsToItsRoute()
    {
        _cli.Http.Post("/sandboxes/sb_1/stop").Ok("""{"sandbox":{"id":"sb_1","status":"stopped"},"alreadyStopped":false}""");

        var result = await _cli.RunAsync("sandboxes", "stop", "sb_1");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal(["stopped sandbox sb_1"], result.StdoutLines);
    }

    [Fact]
    public async Task Run_QuotedPromptStartingWithADash_IsThePrompt()
    {
        _cli.Http.Post("/runs").Ok(s_run, System.Net.HttpStatusCode.Accepted);

        var result = await _cli.RunAsync("run", "--repo", "repo_1", "--verbose is ignored by the parser");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal("""{"repoId":"repo_1","prompt":"--verbose is ignored by the parser"}""", _cli.SingleRequest.Body);
    }

    [Fact]
    public async Task Run_PromptAfterDoubleDash_MayStartWithADash()
    {
        _cli.Http.Post("/runs").Ok(s_run, System.Net.HttpStatusCode.Accepted);

        var result = await _cli.RunAsync("run", "--repo", "repo_1", "--", "--verbose", "is", "broken");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal("""{"repoId":"repo_1","prompt":"--verbose is broken"}""", _cli.SingleRequest.Body);
    }
}
