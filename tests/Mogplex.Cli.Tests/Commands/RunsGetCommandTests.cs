using System.Text.Json.Nodes;
using Mogplex.Cli.Tests.Infrastructure;

namespace Mogplex.Cli.Tests.Commands;

/// <summary><c>mogplex runs get</c>.</summary>
public sealed class RunsGetCommandTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RunsGet_Pretty_PrintsEveryFieldWithoutErrorLine(bool tty)
    {
        _cli.StdoutIsTerminal = tty;
        var run = Api.Run(runId: "run_1", status: "streaming", repoId: "repo_1", harness: "claude-code", baseBranch: "main", working: "fix/a", createBranch: true, sandboxId: "sb_9");
        _cli.Http.Get("/runs/run_1").Ok(new JsonObject { ["run"] = run }.Json());

        var result = await _cli.RunAsync("runs", "get", "run_1");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal(
            [
                "run     run_1",
                "status  streaming",
                "harness claude-code",
                "repo    repo_1",
                "branch  fix/a (base main, created)",
                "sandbox sb_9",
                "events  /api/v1/mogplex/runs/run_1/events",
                "cancel  /api/v1/mogplex/runs/run_1/cancel",
                "created 2025-01-01T10:00:00.000Z",
                "updated 2025-01-01T10:00:05.000Z",
            ],
            result.StdoutLines);
        Assert.Empty(result.Stderr);
    }

    [Fact]
    public async Task RunsGet_Failed_AddsTheErrorLine_AndDashForNoSandbox()
    {
        var run = Api.Run(runId: "run_1", status: "failed", error: "harness exited with code 1\nsee logs");
        _cli.Http.Get("/runs/run_1").Ok(new JsonObject { ["run"] = run }.Json());

        var result = await _cli.RunAsync("runs", "get", "run_1");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal(11, result.StdoutLines.Count);
        Assert.Equal("branch  main (base main)", result.StdoutLines[4]);
        Assert.Equal("sandbox -", result.StdoutLines[5]);
        Assert.Equal("error   harness exited with code 1\\nsee logs", result.StdoutLines[10]);
    }

    [Fact]
    public async Task RunsGet_EmptyError_PrintsNoErrorLine()
    {
        _cli.Http.Get("/runs/run_1").Ok(new JsonObject { ["run"] = Api.Run(error: "") }.Json());

        var result = await _cli.RunAsync("runs", "get", "run_1");

        Assert.Equal(10, result.StdoutLines.Count);
        Assert.DoesNotContain(result.StdoutLines, l => l.StartsWith("error", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RunsGet_Json_PrintsTheFlatDetail(bool tty)
    {
        _cli.StdoutIsTerminal = tty;
        var run = Api.Run(runId: "run_1", status: "success").Json();
        _cli.Http.Get("/runs/run_1").Ok($$"""{"run":{{run}}}""");

        var result = await _cli.RunAsync("runs", "get", "run_1", "--json");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal([run], result.StdoutLines);
        Assert.Equal("success", Api.Parse(result.StdoutLines[0]).GetProperty("status").GetString());
        Assert.Empty(result.Stderr);
    }

    [Theory]
    [InlineData("branch", 2, "queue   #2, waiting for branch")]
    [InlineData("worker", 3, "queue   #3, waiting for a worker")]
    [InlineData("user-limit", 1, "queue   #1, waiting for the user limit")]
    [InlineData("later\u001b[2J", 1, "queue   #1, waiting for later\\x1b[2J")]
    public async Task RunsGet_PendingRunInTheQueue_PrintsItsPlaceUnderTheStatus(string waitingFor, int position, string line)
    {
        var run = Api.Run(runId: "run_1", status: "pending");
        run["queue"] = new JsonObject { ["position"] = position, ["waitingFor"] = waitingFor };
        _cli.Http.Get("/runs/run_1").Ok(new JsonObject { ["run"] = run }.Json());

        var result = await _cli.RunAsync("runs", "get", "run_1");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal(11, result.StdoutLines.Count);
        Assert.Equal("status  pending", result.StdoutLines[1]);
        Assert.Equal(line, result.StdoutLines[2]);
        Assert.Equal("harness codex", result.StdoutLines[3]);
    }

    [Fact]
    public async Task RunsGet_NullQueue_PrintsNoQueueLine_AndJsonPassesTheQueueThrough()
    {
        var run = Api.Run(runId: "run_1", status: "pending");
        run["queue"] = null;
        _cli.Http.Get("/runs/run_1").Ok(new JsonObject { ["run"] = run }.Json());
        var pretty = await _cli.RunAsync("runs", "get", "run_1");

        var waiting = Api.Run(runId: "run_2", status: "pending");
        waiting["queue"] = new JsonObject { ["position"] = 2, ["waitingFor"] = "branch" };
        _cli.Http.Get("/runs/run_2").Ok(new JsonObject { ["run"] = waiting }.Json());
        var json = await _cli.RunAsync("runs", "get", "run_2", "--json");

        Assert.Equal(10, pretty.StdoutLines.Count);
        Assert.DoesNotContain(pretty.StdoutLines, l => l.StartsWith("queue", StringComparison.Ordinal));
        var queue = Api.Parse(Assert.Single(json.StdoutLines)).GetProperty("queue");
        Assert.Equal(2, queue.GetProperty("position").GetInt32());
        Assert.Equal("branch", queue.GetProperty("waitingFor").GetString());
    }
}
