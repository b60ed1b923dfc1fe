using System.Net;
using System.Text.Json.Nodes;
using Mogplex.Cli.Tests.Infrastructure;

namespace Mogplex.Cli.Tests.Follow;

/// <summary><c>runs events --follow</c> against a server with the live stream: each event once, reconnects, the end line.</summary>
public sealed class FollowStreamTests : IDisposable
{
    private static readonly JsonObject s_e1 = Api.Event("e1", "started", "run started", createdAt: "2025-01-01T10:00:01.000Z");
    private static readonly JsonObject s_e2 = Api.Event("e2", "tool_call", "git status", toolName: "shell", createdAt: "2025-01-01T10:00:02.000Z");
    private static readonly JsonObject s_e3 = Api.Event("e3", "assistant_message", "All done.", createdAt: "2025-01-01T10:00:03.000Z");

    private const string Line1 = "2025-01-01T10:00:01.000Z  started            run started";
    private const string Line2 = "2025-01-01T10:00:02.000Z  tool_call          tool=shell  git status";
    private const string Line3 = "2025-01-01T10:00:03.000Z  assistant_message  All done.";

    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Stream_EventsThenEnd_PrintsEachOnceThenTheEndLine(bool tty)
    {
        _cli.StdoutIsTerminal = tty;
        _cli.Http.Get("/runs/run_1/events").Sse(
            ": keep-alive\n\n" + Api.SseEvent(s_e1) + Api.SseEvent(s_e2) + ": keep-alive\n\n" + Api.SseEvent(s_e3) + Api.SseEnd("run_1", "success"));

        var result = await _cli.RunAsync("runs", "events", "run_1", "--follow");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal([Line1, Line2, Line3, "--- run run_1 success ---"], result.StdoutLines);
        Assert.Empty(result.Stderr);
        Assert.Equal("text/event-stream", _cli.SingleRequest.Header("Accept"));
    }

    [Fact]
    public async Task Stream_Json_IsNdjsonEndingWithRunIdAndStatus()
    {
        _cli.Http.Get("/runs/run_1/events").Sse(Api.SseEvent(s_e1) + Api.SseEvent(s_e2) + Api.SseEnd("run_1", "failed"));

        var result = await _cli.RunAsync("runs", "events", "run_1", "--follow", "--json");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal([s_e1.Json(), s_e2.Json(), """{"runId":"run_1","status":"failed"}"""], result.StdoutLines);
        Assert.All(result.StdoutLines, l => Api.Parse(l));
        Assert.Empty(result.Stderr);
    }

    [Fact]
    public async Task Stream_DropsMidway_ReconnectsFromTheLastPrintedEvent_WithoutDuplicatesOrGaps()
    {
        _cli.Http.Get("/runs/run_1/events").Sse(Api.SseEvent(s_e1) + Api.SseEvent(s_e2), StreamEnding.Drop);
        // The resumed stream repeats e2 (an at-least-once server): the CLI still prints it once.
        _cli.Http.Get("/runs/run_1/events").Sse(Api.SseEvent(s_e2) + Api.SseEvent(s_e3) + Api.SseEnd("run_1", "cancelled"));

        var result = await _cli.RunAsync("runs", "events", "run_1", "--follow");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal([Line1, Line2, Line3, "--- run run_1 cancelled ---"], result.StdoutLines);
        Assert.Empty(result.Stderr);
        var requests = _cli.Http.Requests;
        Assert.Equal(2, requests.Count);
        Assert.Null(requests[0].Header("Last-Event-ID"));
        Assert.Equal("e2", requests[1].Header("Last-Event-ID"));
        Assert.All(requests, r => Assert.Equal("text/event-stream", r.Header("Accept")));
    }

    [Fact]
    public async Task Stream_ClosedWithoutEnd_ReconnectsUntilTheEnd()
    {
        _cli.Http.Get("/runs/run_1/events").Sse(Api.SseEvent(s_e1));
        _cli.Http.Get("/runs/run_1/events").Sse("", StreamEnding.Drop);
        _cli.Http.Get("/runs/run_1/events").Sse(Api.SseEvent(s_e2) + Api.SseEvent(s_e3) + Api.SseEnd("run_1", "success"));

        var result = await _cli.RunAsync("runs", "events", "run_1", "--follow", "--json");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal([s_e1.Json(), s_e2.Json(), s_e3.Json(), """{"runId":"run_1","status":"success"}"""], result.StdoutLines);
        Assert.Equal([null, "e1", "e1"], _cli.Http.Requests.Select(r => r.Header("Last-Event-ID")));
    }

    [Fact]
    public async Task Stream_SilentPastTheIdleLimit_CountsAsDroppedAndResumesFromTheLastEvent()
    {
        // A half-open connection: e1, then nothing (not even keep-alives) for the idle limit.
        _cli.AdvanceShortTimers = false;
        _cli.StreamIdleLimit = TimeSpan.FromSeconds(45);
        _cli.Http.Get("/runs/run_1/events").Sse(new ScriptedStream(Api.SseEvent(s_e1), StreamEnding.Hang));
        _cli.Http.Get("/runs/run_1/events").Sse(Api.SseEvent(s_e2) + Api.SseEnd("run_1", "success"));

        var running = _cli.Start("runs", "events", "run_1", "--follow");
        await _cli.Terminal.WaitForStdoutAsync(o => o.Contains(Line1, StringComparison.Ordinal), running.Task);
        Assert.Single(_cli.Http.Requests);
        await _cli.Clock.WaitForTimerAsync(TimeSpan.FromSeconds(45));
        _cli.Clock.Advance(TimeSpan.FromSeconds(45));
        // The stream brought an event before it went silent: it is resumed after the base 200 ms.
        await _cli.Clock.WaitForTimerAsync(TimeSpan.FromMilliseconds(200));
        _cli.Clock.Advance(TimeSpan.FromMilliseconds(200));
        var result = await running.CompleteAsync();

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal([Line1, Line2, "--- run run_1 success ---"], result.StdoutLines);
        Assert.Equal([null, "e1"], _cli.Http.Requests.Select(r => r.Header("Last-Event-ID")));
    }

    [Fact]
    public async Task Stream_KeepsClosingWithoutEvents_WaitsLongerEachTime()
    {
        _cli.AdvanceShortTimers = false;
        _cli.Http.Get("/runs/run_1/events").Sse("", StreamEnding.Drop).Times(3);
        _cli.Http.Get("/runs/run_1/events").Sse(Api.SseEnd("run_1", "success"));

        var running = _cli.Start("runs", "events", "run_1", "--follow");
        foreach (var wait in new[] { 0.4, 0.8, 1.6 })
        {
            // Each quiet stream doubles the pause before the next connection (200 ms base, 5 s cap).
            await _cli.Clock.WaitForTimerAsync(TimeSpan.FromSeconds(wait));
            _cli.Clock.Advance(TimeSpan.FromSeconds(wait));
        }

        var result = await running.CompleteAsync();
        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal(4, _cli.Http.Requests.Count);
    }

    [Fact]
    public async Task Stream_ServerUnreachableForAMoment_RetriesAndCarriesOn()
    {
        _cli.Http.Get("/runs/run_1/events").Sse(Api.SseEvent(s_e1), StreamEnding.Drop);
        _cli.Http.Get("/runs/run_1/events").Unreachable().Times(2);
        _cli.Http.Get("/runs/run_1/events").Sse(Api.SseEvent(s_e2) + Api.SseEnd("run_1", "success"));

        var result = await _cli.RunAsync("runs", "events", "run_1", "--follow");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal([Line1, Line2, "--- run run_1 success ---"], result.StdoutLines);
        Assert.Equal([null, "e1", "e1", "e1"], _cli.Http.Requests.Select(r => r.Header("Last-Event-ID")));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Stream_EndLostThenResumeAnswers204_ReadsTheRunOnceAndEndsWithItsStatus(bool json)
    {
        // The connection drops after the last event, before `end`: the resume gets 204 (the run is
        // over, nothing after e3), and the run itself tells the final status.
        _cli.Http.Get("/runs/run_1/events").Sse(Api.SseEvent(s_e1) + Api.SseEvent(s_e2) + Api.SseEvent(s_e3), StreamEnding.Drop);
        _cli.Http.Get("/runs/run_1/events").Respond(() => new HttpResponseMessage(HttpStatusCode.NoContent));
        _cli.Http.Get("/runs/run_1").Ok(new JsonObject { ["run"] = Api.Run(status: "failed") }.Json());

        var result = json
            ? await _cli.RunAsync("runs", "events", "run_1", "--follow", "--json")
            : await _cli.RunAsync("runs", "events", "run_1", "--follow");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal(
            json ? [s_e1.Json(), s_e2.Json(), s_e3.Json(), """{"runId":"run_1","status":"failed"}"""] : [Line1, Line2, Line3, "--- run run_1 failed ---"],
            result.StdoutLines);
        Assert.Empty(result.Stderr);
        Assert.Equal([null, "e3", null], _cli.Http.Requests.Select(r => r.Header("Last-Event-ID")));
        Assert.Equal("/api/v1/mogplex/runs/run_1", _cli.Http.Requests[^1].Uri.AbsolutePath);
    }

    [Fact]
    public async Task Stream_204ButTheRunIsNotTerminal_KeepsFollowingUntilTheEnd()
    {
        // Not what mogplexd answers, but a 204 from something in between must not end a live run.
        _cli.Http.Get("/runs/run_1/events").Sse(Api.SseEvent(s_e1), StreamEnding.Drop);
        _cli.Http.Get("/runs/run_1/events").Respond(() => new HttpResponseMessage(HttpStatusCode.NoContent));
        _cli.Http.Get("/runs/run_1").Ok(new JsonObject { ["run"] = Api.Run(status: "streaming") }.Json());
        _cli.Http.Get("/runs/run_1/events").Sse(Api.SseEvent(s_e2) + Api.SseEnd("run_1", "success"));

        var result = await _cli.RunAsync("runs", "events", "run_1", "--follow");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal([Line1, Line2, "--- run run_1 success ---"], result.StdoutLines);
        Assert.Equal([null, "e1", null, "e1"], _cli.Http.Requests.Select(r => r.Header("Last-Event-ID")));
    }

    [Fact]
    public async Task Stream_ServerGoneLongerThanThePatience_Exits69()
    {
        // Back-off 0.2 s, 0.4 s, 0.8 s: the fourth failure is 1.4 s after the first, past a 1 s patience.
        _cli.ReconnectPatience = TimeSpan.FromSeconds(1);
        _cli.Http.Get("/runs/run_1/events").Unreachable().Times(4);

        var result = await _cli.RunAsync("runs", "events", "run_1", "--follow");

        Assert.Equal(ExitCodes.Unavailable, result.Exit);
        Assert.Equal(["error: cannot reach the server at https://www.mogplex.com: Connection refused"], result.StderrLines);
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public async Task Stream_UnknownRun_IsTheServersErrorExit1()
    {
        _cli.Http.Get("/runs/run_x/events").Error(HttpStatusCode.NotFound, "NOT_FOUND", "Run not found");

        var result = await _cli.RunAsync("runs", "events", "run_x", "--follow");

        Assert.Equal(ExitCodes.Failure, result.Exit);
        Assert.Equal(["error: Run not found (NOT_FOUND)"], result.StderrLines);
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public async Task Stream_HostileMessage_IsEscapedOnOneLine()
    {
        var hostile = Api.Event("e1", "log", "\u001b]0;pwned\u0007\u001b[31mred\nsecond line\r\n--- run run_1 success ---");
        _cli.Http.Get("/runs/run_1/events").Sse(Api.SseEvent(hostile) + Api.SseEnd("run_1", "failed"));

        var result = await _cli.RunAsync("runs", "events", "run_1", "--follow");

        Assert.Equal(
            [
                "2025-01-01T10:00:01.000Z  log                \\x1b]0;pwned\\x07\\x1b[31mred\\nsecond line\\r\\n--- run run_1 success ---",
                "--- run run_1 failed ---",
            ],
            result.StdoutLines);
        Assert.DoesNotContain('\u001b', result.Stdout);
    }

    [Fact]
    public async Task Stream_EventWithoutIdInData_IsKeyedByTheSseId()
    {
        var noId = Api.Event("x", "log", "from the frame id");
        noId.Remove("id");
        var frames = $"id: e9\nevent: log\ndata: {noId.Json()}\n\n" + $"id: e9\nevent: log\ndata: {noId.Json()}\n\n" + Api.SseEnd("run_1", "success");
        _cli.Http.Get("/runs/run_1/events").Sse(frames);

        var result = await _cli.RunAsync("runs", "events", "run_1", "--follow");

        Assert.Equal(["2025-01-01T10:00:01.000Z  log                from the frame id", "--- run run_1 success ---"], result.StdoutLines);
    }
}
