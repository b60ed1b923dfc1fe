using System.Text.Json.Nodes;
using Mogplex.Cli.Tests.Infrastructure;

namespace Mogplex.Cli.Tests.Commands;

/// <summary><c>mogplex runs cancel</c>.</summary>
public sealed class RunsCancelCommandTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    private static string Answer(string status, bool alreadyTerminal) =>
        new JsonObject { ["run"] = Api.Run(runId: "run_1", status: status), ["status"] = status, ["alreadyTerminal"] = alreadyTerminal }.Json();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RunsCancel_ActiveRun_SaysRequestedAndTheStatus(bool tty)
    {
        _cli.StdoutIsTerminal = tty;
        _cli.Http.Post("/runs/run_1/cancel").Ok(Answer("cancelled", alreadyTerminal: false));

        var result = await _cli.RunAsync("runs", "cancel", "run_1");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal(["cancellation requested for run run_1", "status: cancelled"], result.StdoutLines);
        Assert.Empty(result.Stderr);
    }

    [Fact]
    public async Task RunsCancel_StillStoppingWithinTheBoundedWait_PrintsTheStatusItHas()
    {
        _cli.Http.Post("/runs/run_1/cancel").Ok(Answer("streaming", alreadyTerminal: false));

        var result = await _cli.RunAsync("runs", "cancel", "run_1");

        Assert.Equal(["cancellation requested for run run_1", "status: streaming"], result.StdoutLines);
    }

    [Theory]
    [InlineData("success")]
    [InlineData("failed")]
    [InlineData("cancelled")]
    public async Task RunsCancel_AlreadyTerminal_SaysSoAndExitsZero(string status)
    {
        _cli.Http.Post("/runs/run_1/cancel").Ok(Answer(status, alreadyTerminal: true));

        var result = await _cli.RunAsync("runs", "cancel", "run_1");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal([$"run run_1 is already {status}"], result.StdoutLines);
    }

    [Fact]
    public async Task RunsCancel_Json_PrintsTheApiObject()
    {
        var answer = Answer("success", alreadyTerminal: true);
        _cli.Http.Post("/runs/run_1/cancel").Ok(answer);

        var result = await _cli.RunAsync("runs", "cancel", "run_1", "--json");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal([answer], result.StdoutLines);
        var parsed = Api.Parse(result.StdoutLines[0]);
        Assert.Equal("success", parsed.GetProperty("status").GetString());
        Assert.True(parsed.GetProperty("alreadyTerminal").GetBoolean());
        Assert.Equal("run_1", parsed.GetProperty("run").GetProperty("runId").GetString());
    }
}
