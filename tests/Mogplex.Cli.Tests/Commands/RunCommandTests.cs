using System.Net;
using System.Text.Json.Nodes;
using Mogplex.Cli.Tests.Infrastructure;

namespace Mogplex.Cli.Tests.Commands;

/// <summary><c>mogplex run</c>: the pretty summary, <c>--json</c>, and where the prompt comes from.</summary>
public sealed class RunCommandTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    private static string Started(bool replayed = false, bool createBranch = false, string working = "main", string status = "pending")
    {
        var run = Api.Run(runId: "run_7", status: status, repoId: "repo_1", harness: "codex", baseBranch: "main", working: working, createBranch: createBranch);
        run["replayed"] = replayed;
        return run.Json();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Run_Started_PrintsTheSummary(bool tty)
    {
        _cli.StdoutIsTerminal = tty;
        _cli.Http.Post("/runs").Ok(Started(), HttpStatusCode.Accepted);

        var result = await _cli.RunAsync("run", "--repo", "repo_1", "Fix the typo");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal(
            [
                "started run run_7 (pending)",
                "repo    repo_1",
                "harness codex",
                "branch  main (base main)",
                "tail events: mogplex runs events run_7 --follow",
            ],
            result.StdoutLines);
        Assert.Empty(result.Stderr);
    }

    [Fact]
    public async Task Run_CreatedBranch_SaysCreated()
    {
        _cli.Http.Post("/runs").Ok(Started(createBranch: true, working: "fix/readme"), HttpStatusCode.Accepted);

        var result = await _cli.RunAsync("run", "--repo", "repo_1", "--create-branch", "--branch", "fix/readme", "Fix the typo");

        Assert.Equal("branch  fix/readme (base main, created)", result.StdoutLines[3]);
    }

    [Fact]
    public async Task Run_Replayed_SaysMatchedExistingRunFirst()
    {
        _cli.Http.Post("/runs").Ok(Started(replayed: true, status: "streaming"), HttpStatusCode.Accepted);

        var result = await _cli.RunAsync("run", "--repo", "repo_1", "--idempotency-key", "k1", "Fix the typo");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal(
            [
                "matched existing run run_7 (streaming)",
                "repo    repo_1",
                "harness codex",
                "branch  main (base main)",
                "tail events: mogplex runs events run_7 --follow",
            ],
            result.StdoutLines);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Run_Json_PrintsTheFlatRunObjectWithReplayedOnOneLine(bool tty)
    {
        _cli.StdoutIsTerminal = tty;
        var data = Started(replayed: true);
        _cli.Http.Post("/runs").Ok(data, HttpStatusCode.Accepted);

        var result = await _cli.RunAsync("run", "--repo", "repo_1", "--json", "Fix the typo");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal([data], result.StdoutLines);
        var run = Api.Parse(result.StdoutLines[0]);
        Assert.Equal("run_7", run.GetProperty("runId").GetString());
        Assert.True(run.GetProperty("replayed").GetBoolean());
        Assert.Empty(result.Stderr);
    }

    [Fact]
    public async Task Run_PromptWords_AreJoinedBySpaces()
    {
        _cli.Http.Post("/runs").Ok(Started(), HttpStatusCode.Accepted);

        await _cli.RunAsync("run", "Fix", "--repo", "repo_1", "the", "flaky  test");

        Assert.Equal("Fix the flaky  test", Prompt());
    }

    [Fact]
    public async Task Run_DashPrompt_ReadsStdin()
    {
        _cli.Stdin = "  Fix the typo\nin README.md\n\n";
        _cli.Http.Post("/runs").Ok(Started(), HttpStatusCode.Accepted);

        var result = await _cli.RunAsync("run", "--repo", "repo_1", "-");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal("Fix the typo\nin README.md", Prompt());
    }

    [Fact]
    public async Task Run_NoPromptWithPipedStdin_ReadsStdin()
    {
        _cli.Stdin = "Refactor the parser";
        _cli.Http.Post("/runs").Ok(Started(), HttpStatusCode.Accepted);

        var result = await _cli.RunAsync("run", "--repo", "repo_1");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal("Refactor the parser", Prompt());
    }

    [Fact]
    public async Task Run_PromptWordsWithPipedStdin_UsesTheWords()
    {
        _cli.Stdin = "ignored";
        _cli.Http.Post("/runs").Ok(Started(), HttpStatusCode.Accepted);

        await _cli.RunAsync("run", "--repo", "repo_1", "from", "argv");

        Assert.Equal("from argv", Prompt());
    }

    [Fact]
    public async Task Run_PromptOnStdinOverTheLimit_IsUsageErrorWithoutRequest()
    {
        _cli.Stdin = new string('x', 100_001);

        var result = await _cli.RunAsync("run", "--repo", "repo_1", "-");

        Assert.Equal(ExitCodes.Usage, result.Exit);
        Assert.Equal(["error: run: the prompt read from stdin is longer than 100,000 characters"], result.StderrLines);
        Assert.Empty(_cli.Http.Requests);
    }

    [Fact]
    public async Task Run_PromptOnStdinAtTheLimit_WithSurroundingWhitespace_IsSent()
    {
        // A file of exactly 100,000 characters ends with a newline; the server trims before it counts.
        var prompt = "fix " + new string('x', 99_992) + " now";
        _cli.Stdin = "\n  " + prompt + "\n\n";
        _cli.Http.Post("/runs").Ok(Started(), HttpStatusCode.Accepted);

        var result = await _cli.RunAsync("run", "--repo", "repo_1", "-");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal(100_000, prompt.Length);
        Assert.Equal(prompt, Prompt());
    }

    [Fact]
    public async Task Run_PromptOnStdinOverTheLimitAfterTrimming_IsUsageError()
    {
        _cli.Stdin = "  " + new string('x', 100_000) + " \n y\n";

        var result = await _cli.RunAsync("run", "--repo", "repo_1", "-");

        Assert.Equal(ExitCodes.Usage, result.Exit);
        Assert.Equal(["error: run: the prompt read from stdin is longer than 100,000 characters"], result.StderrLines);
        Assert.Empty(_cli.Http.Requests);
    }

    [Fact]
    public async Task Run_HostileServerText_IsPrintedOnOneLine()
    {
        var run = Api.Run(runId: "run_7", harness: "codex\u001b[2J");
        run["replayed"] = false;
        _cli.Http.Post("/runs").Ok(run.Json(), HttpStatusCode.Accepted);

        var result = await _cli.RunAsync("run", "--repo", "repo_1", "go");

        Assert.Equal("harness codex\\x1b[2J", result.StdoutLines[2]);
        Assert.DoesNotContain('\u001b', result.Stdout);
    }

    private string? Prompt() => JsonNode.Parse(_cli.SingleRequest.Body!)!["prompt"]!.GetValue<string>();
}
