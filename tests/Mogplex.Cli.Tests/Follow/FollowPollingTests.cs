using System.Text.Json.Nodes;
using Mogplex.Cli.Tests.Infrastructure;

namespace Mogplex.Cli.Tests.Follow;

/// <summary>
/// <c>runs events --follow</c> against a server without the stream (it answers the events page as
/// JSON): polls every 1.5 s (fake time), de-duplicates by id, drains after the terminal status.
/// </summary>
public sealed class FollowPollingTests : IDisposable
{
    private static readonly TimeSpan s_pollInterval = TimeSpan.FromSeconds(1.5);

    private static readonly JsonObject s_e1 = Api.Event("e1", "started", "run started");
    private static readonly JsonObject s_e2 = Api.Event("e2", "log", "installing");
    private static readonly JsonObject s_e3 = Api.Event("e3", "log", "testing");
    private static readonly JsonObject s_e4 = Api.Event("e4", "finished", "done");

    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    private static string Line(JsonObject e) => $"2025-01-01T10:00:01.000Z  {e["type"]!.GetValue<string>().PadRight(17)}  {e["message"]}";

    /// <summary>A hosted-like server: ignores <c>after</c> and answers the whole list each time.</summary>
    private void StubHostedSequence()
    {
        _cli.Http.Get("/runs/run_1/events").Ok(Api.EventsPage(Api.Run(runId: "run_1", status: "pending"), s_e1, s_e2));
        _cli.Http.Get("/runs/run_1/events?limit=200&after=e2").Ok(Api.EventsPage(Api.Run(runId: "run_1", status: "streaming"), s_e1, s_e2, s_e3));
        _cli.Http.Get("/runs/run_1/events?limit=200&after=e3").Ok(Api.EventsPage(Api.Run(runId: "run_1", status: "success"), s_e1, s_e2, s_e3, s_e4));
        _cli.Http.Get("/runs/run_1/events?limit=200&after=e4").Ok(Api.EventsPage(Api.Run(runId: "run_1", status: "success"), s_e1, s_e2, s_e3, s_e4));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Polling_PrintsEachEventOnce_UntilTerminal_EveryPollInterval(bool tty)
    {
        _cli.StdoutIsTerminal = tty;
        StubHostedSequence();

        var result = await _cli.RunAsync("runs", "events", "run_1", "--follow");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal([Line(s_e1), Line(s_e2), Line(s_e3), Line(s_e4), "--- run run_1 success ---"], result.StdoutLines);
        Assert.Empty(result.Stderr);
        Assert.Equal("text/event-stream", _cli.Http.Requests[0].Header("Accept"));
        // Two waits of the documented 1.5 s while the run was active; none once it was terminal.
        Assert.Equal(2, _cli.Clock.TimersCreated.Count(t => t == s_pollInterval));
    }

    [Fact]
    public async Task Polling_Json_IsNdjsonEndingWithRunIdAndStatus()
    {
        StubHostedSequence();

        var result = await _cli.RunAsync("runs", "events", "run_1", "--follow", "--json");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal([s_e1.Json(), s_e2.Json(), s_e3.Json(), s_e4.Json(), """{"runId":"run_1","status":"success"}"""], result.StdoutLines);
        Assert.Empty(result.Stderr);
    }

    [Fact]
    public async Task Polling_FullPage_FetchesTheNextWithoutWaiting()
    {
        _cli.Http.Get("/runs/run_1/events").Ok(Api.EventsPage(Api.Run(runId: "run_1", status: "streaming"), s_e1, s_e2));
        _cli.Http.Get("/runs/run_1/events?limit=2&after=e2").Ok(Api.EventsPage(Api.Run(runId: "run_1", status: "streaming"), s_e3));
        _cli.Http.Get("/runs/run_1/events?limit=2&after=e3").Ok(Api.EventsPage(Api.Run(runId: "run_1", status: "failed"), s_e4));
        _cli.Http.Get("/runs/run_1/events?limit=2&after=e4").Ok(Api.EventsPage(Api.Run(runId: "run_1", status: "failed")));

        var result = await _cli.RunAsync("runs", "events", "run_1", "--follow", "--limit", "2");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal([Line(s_e1), Line(s_e2), Line(s_e3), Line(s_e4), "--- run run_1 failed ---"], result.StdoutLines);
        // Only the short page (e3) was followed by a wait.
        Assert.Equal(1, _cli.Clock.TimersCreated.Count(t => t == s_pollInterval));
    }

    [Fact]
    public async Task Polling_AlreadyTerminalWithoutEvents_EndsAtOnce()
    {
        _cli.Http.Get("/runs/run_1/events").Ok(Api.EventsPage(Api.Run(runId: "run_1", status: "cancelled")));

        var result = await _cli.RunAsync("runs", "events", "run_1", "--follow");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal(["--- run run_1 cancelled ---"], result.StdoutLines);
    }

    [Fact]
    public async Task Polling_HostileMessage_IsEscapedOnOneLine()
    {
        _cli.Http.Get("/runs/run_1/events").Ok(Api.EventsPage(Api.Run(runId: "run_1", status: "success"), Api.Event("e1", "error", "boom\n\u001b[1mbold")));
        _cli.Http.Get("/runs/run_1/events?limit=200&after=e1").Ok(Api.EventsPage(Api.Run(runId: "run_1", status: "success")));

        var result = await _cli.RunAsync("runs", "events", "run_1", "--follow");

        Assert.Equal(["2025-01-01T10:00:01.000Z  error              boom\\n\\x1b[1mbold", "--- run run_1 success ---"], result.StdoutLines);
    }
}
