using System.Net;
using System.Text.Json.Nodes;
using Mogplex.Cli.Tests.Infrastructure;

namespace Mogplex.Cli.Tests.Follow;

/// <summary>
/// <c>runs events --follow</c> against a broken or hostile event stream: a line or message without
/// end is cut off with a clear error instead of filling memory, and an event ID no header can
/// carry is never sent back as <c>Last-Event-ID</c>.
/// </summary>
public sealed class FollowHostileStreamTests : IDisposable
{
    /// <summary>The cap on a line and on a message's data, in characters (<c>RunEventFeed.MaxMessageChars</c>).</summary>
    private const int Cap = 1024 * 1024;

    /// <summary>What a reader may take beyond the cap before it notices (its buffers).</summary>
    private const long ReadSlack = 256 * 1024;

    private const long HugeStream = 16L * 1024 * 1024;

    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task EndlessLine_EndsTheFollowWithAClearError_WithoutReadingOn()
    {
        var stream = new RepeatingStream(Api.SseEvent(Api.Event("e1")) + "data: ", "x", HugeStream);
        _cli.Http.Get("/runs/run_1/events").Body(HttpStatusCode.OK, "text/event-stream", stream);

        var result = await _cli.RunAsync("runs", "events", "run_1", "--follow");

        Assert.Equal(ExitCodes.Failure, result.Exit);
        Assert.Equal(["2025-01-01T10:00:01.000Z  log                message of e1"], result.StdoutLines);
        Assert.Equal(["error: unexpected answer from the server: an event-stream line longer than 1,048,576 characters (HTTP_200)"], result.StderrLines);
        Assert.InRange(stream.BytesRead, Cap, Cap + ReadSlack);
    }

    [Fact]
    public async Task EndlessMessage_OfShortDataLines_EndsTheFollowWithAClearError()
    {
        var stream = new RepeatingStream(": hello\n\n", "data: " + new string('y', 1000) + "\n", HugeStream);
        _cli.Http.Get("/runs/run_1/events").Body(HttpStatusCode.OK, "text/event-stream", stream);

        var result = await _cli.RunAsync("runs", "events", "run_1", "--follow", "--json");

        Assert.Equal(ExitCodes.Failure, result.Exit);
        Assert.Empty(result.Stdout);
        Assert.Equal(["error: unexpected answer from the server: an event-stream message longer than 1,048,576 characters (HTTP_200)"], result.StderrLines);
        Assert.InRange(stream.BytesRead, Cap, (Cap * 1006L / 1000) + ReadSlack);
    }

    [Fact]
    public async Task LargeEventUnderTheLimit_IsPrinted()
    {
        var large = Api.Event("e1", "tool_result", new string('z', 500_000));
        _cli.Http.Get("/runs/run_1/events").Sse(new ScriptedStream(Api.SseEvent(large) + Api.SseEnd("run_1", "success"), StreamEnding.Close) { MaxChunk = 4096 });

        var result = await _cli.RunAsync("runs", "events", "run_1", "--follow", "--json");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal([large.Json(), """{"runId":"run_1","status":"success"}"""], result.StdoutLines);
    }

    [Theory]
    [InlineData("\r\n")]
    [InlineData("\r")]
    [InlineData("\n")]
    public async Task LineEnds_CrLfCrOrLf_ArrivingByteByByte_FrameTheSameEvents(string newline)
    {
        var e1 = Api.Event("e1");
        var e2 = Api.Event("e2");
        var frames = (": keep-alive\n\n" + Api.SseEvent(e1) + Api.SseEvent(e2) + Api.SseEnd("run_1", "success")).Replace("\n", newline, StringComparison.Ordinal);
        _cli.Http.Get("/runs/run_1/events").Sse(new ScriptedStream(frames, StreamEnding.Close) { MaxChunk = 1 });

        var result = await _cli.RunAsync("runs", "events", "run_1", "--follow", "--json");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal([e1.Json(), e2.Json(), """{"runId":"run_1","status":"success"}"""], result.StdoutLines);
    }

    [Theory]
    [InlineData("e2\r\nX-Injected: yes")]
    [InlineData("e2\n")]
    [InlineData("e2\r")]
    [InlineData("e2\u0000")]
    [InlineData("e\u00e92")]
    [InlineData("e 2")]
    [InlineData("")]
    public async Task EventIdNoHeaderCanCarry_IsNotResumedFrom_TheLastOneThatCanBeIs(string hostileId)
    {
        var e1 = Api.Event("e1");
        var e2 = Api.Event(hostileId);
        var e3 = Api.Event("e3");
        // The second stream repeats the event after e1 (where it resumes): it is printed once.
        _cli.Http.Get("/runs/run_1/events").Sse(Frame(e1) + Frame(e2), StreamEnding.Drop);
        _cli.Http.Get("/runs/run_1/events").Sse(Frame(e2) + Frame(e3) + Api.SseEnd("run_1", "success"));

        var result = await _cli.RunAsync("runs", "events", "run_1", "--follow", "--json");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal(["e1", hostileId, "e3", null], result.StdoutLines.Select(l => Api.Parse(l).TryGetProperty("id", out var id) ? id.GetString() : null));
        Assert.Equal("""{"runId":"run_1","status":"success"}""", result.StdoutLines[^1]);
        Assert.Empty(result.Stderr);
        Assert.Equal([null, "e1"], _cli.Http.Requests.Select(r => r.Header("Last-Event-ID")));
    }

    [Fact]
    public async Task EventIdTooLongForAHeader_IsNotResumedFrom()
    {
        var e1 = Api.Event("e1");
        var e2 = Api.Event(new string('i', 1025));
        _cli.Http.Get("/runs/run_1/events").Sse(Frame(e1) + Frame(e2), StreamEnding.Drop);
        _cli.Http.Get("/runs/run_1/events").Sse(Api.SseEnd("run_1", "success"));

        var result = await _cli.RunAsync("runs", "events", "run_1", "--follow", "--json");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal([null, "e1"], _cli.Http.Requests.Select(r => r.Header("Last-Event-ID")));
    }

    [Fact]
    public async Task FirstEventIdWithCrLf_ReconnectsWithoutLastEventId_AndPrintsEachEventOnce()
    {
        var e1 = Api.Event("e1\r\nX-Injected: yes");
        var e2 = Api.Event("e2");
        _cli.Http.Get("/runs/run_1/events").Sse(Frame(e1), StreamEnding.Drop);
        // Without Last-Event-ID the server replays from the start: e1 is not printed twice.
        _cli.Http.Get("/runs/run_1/events").Sse(Frame(e1) + Frame(e2) + Api.SseEnd("run_1", "success"));

        var result = await _cli.RunAsync("runs", "events", "run_1", "--follow");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal(
            ["2025-01-01T10:00:01.000Z  log                message of e1\\r\\nX-Injected: yes", "2025-01-01T10:00:01.000Z  log                message of e2", "--- run run_1 success ---"],
            result.StdoutLines);
        Assert.Empty(result.Stderr);
        Assert.Equal([null, null], _cli.Http.Requests.Select(r => r.Header("Last-Event-ID")));
    }

    /// <summary>An event's frame without an SSE <c>id</c> line (its ID is only in the data, where JSON can carry anything).</summary>
    private static string Frame(JsonObject e) => $"event: {e["type"]}\ndata: {e.Json()}\n\n";
}
