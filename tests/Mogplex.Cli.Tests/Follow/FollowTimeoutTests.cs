using System.Text.Json.Nodes;
using Mogplex.Cli.Tests.Infrastructure;

namespace Mogplex.Cli.Tests.Follow;

/// <summary><c>--timeout</c> is a cap on (fake) wall-clock time: exit 1 with the documented message, the run goes on.</summary>
public sealed class FollowTimeoutTests : IDisposable
{
    private static readonly JsonObject s_e1 = Api.Event("e1", "started", "run started");
    private static readonly JsonObject s_e2 = Api.Event("e2", "log", "later", createdAt: "2025-01-01T10:00:02.000Z");

    // The stream stays silent for 1799 fake seconds: no idle reconnect may interfere here.
    private readonly CliHarness _cli = new() { AdvanceShortTimers = false, StreamIdleLimit = TimeSpan.FromHours(2) };

    public void Dispose() => _cli.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Stream_DefaultTimeout_Is1800Seconds(bool json)
    {
        var stream = new ScriptedStream(Api.SseEvent(s_e1), StreamEnding.Hang);
        _cli.Http.Get("/runs/run_1/events").Sse(stream);

        var running = json ? _cli.Start("runs", "events", "run_1", "--follow", "--json") : _cli.Start("runs", "events", "run_1", "--follow");
        await _cli.Http.NextRequestAsync();
        _cli.Clock.Advance(TimeSpan.FromSeconds(1799));

        // Still following at 1799 s: a later event is printed.
        stream.Push(Api.SseEvent(s_e2));
        await _cli.Terminal.WaitForStdoutAsync(o => o.Split('\n').Length == 3, running.Task);
        Assert.False(running.Task.IsCompleted, $"ended before the timeout:\n{_cli.Terminal.StderrText}");

        _cli.Clock.Advance(TimeSpan.FromSeconds(1));
        var result = await running.CompleteAsync();

        Assert.Equal(ExitCodes.Failure, result.Exit);
        Assert.Equal(["error: --follow timed out after 1800s waiting for terminal status"], result.StderrLines);
        // What was printed stays; no end line; no cancel was sent (the strict stub would have failed on it).
        Assert.Equal(
            json ? [s_e1.Json(), s_e2.Json()] : ["2025-01-01T10:00:01.000Z  started            run started", "2025-01-01T10:00:02.000Z  log                later"],
            result.StdoutLines);
    }

    [Fact]
    public async Task Polling_TimeoutOption_StopsAtThatManySeconds()
    {
        var poll = TimeSpan.FromSeconds(1.5);
        _cli.Http.Get("/runs/run_1/events").Ok(Api.EventsPage(Api.Run(runId: "run_1", status: "streaming"), s_e1));
        _cli.Http.Get("/runs/run_1/events?limit=200&after=e1").Ok(Api.EventsPage(Api.Run(runId: "run_1", status: "streaming"))).Times(3);

        var running = _cli.Start("runs", "events", "run_1", "--follow", "--timeout", "5");
        for (var i = 0; i < 3; i++)
        {
            // t = 0, 1.5, 3.0: the follower waits one poll interval; let it pass.
            await _cli.Clock.WaitForTimerAsync(poll);
            _cli.Clock.Advance(poll);
        }

        // t = 4.5: waiting for the next poll at 6.0; the cap at 5.0 comes first.
        await _cli.Clock.WaitForTimerAsync(poll);
        _cli.Clock.Advance(TimeSpan.FromSeconds(0.5));
        var result = await running.CompleteAsync();

        Assert.Equal(ExitCodes.Failure, result.Exit);
        Assert.Equal(["error: --follow timed out after 5s waiting for terminal status"], result.StderrLines);
        Assert.Equal(["2025-01-01T10:00:01.000Z  started            run started"], result.StdoutLines);
    }
}
