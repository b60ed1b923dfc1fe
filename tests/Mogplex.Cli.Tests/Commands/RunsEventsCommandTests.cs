using Mogplex.Cli.Tests.Infrastructure;

namespace Mogplex.Cli.Tests.Commands;

/// <summary><c>mogplex runs events</c> without <c>--follow</c>: one page.</summary>
public sealed class RunsEventsCommandTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RunsEvents_Pretty_OneLinePerEvent_TypePadded_ToolOnlyWhenSet(bool tty)
    {
        _cli.StdoutIsTerminal = tty;
        _cli.Http.Get("/runs/run_1/events").Ok(Api.EventsPage(
            Api.Run(runId: "run_1", status: "streaming"),
            Api.Event("e1", "started", "run started", createdAt: "2025-01-01T10:00:01.000Z"),
            Api.Event("e2", "tool_call", "ls -la", toolName: "shell", createdAt: "2025-01-01T10:00:02.123Z"),
            Api.Event("e3", "assistant_message", "Done.", createdAt: "2025-01-01T10:00:03.000Z")));

        var result = await _cli.RunAsync("runs", "events", "run_1");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal(
            [
                "2025-01-01T10:00:01.000Z  started            run started",
                "2025-01-01T10:00:02.123Z  tool_call          tool=shell  ls -la",
                "2025-01-01T10:00:03.000Z  assistant_message  Done.",
            ],
            result.StdoutLines);
        Assert.Empty(result.Stderr);
    }

    [Fact]
    public async Task RunsEvents_NoEvents_PrintsNothing()
    {
        _cli.Http.Get("/runs/run_1/events").Ok(Api.EventsPage(Api.Run(runId: "run_1")));

        var result = await _cli.RunAsync("runs", "events", "run_1");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public async Task RunsEvents_Json_IsNdjsonOfTheEventObjects()
    {
        var e1 = Api.Event("e1", "started");
        var e2 = Api.Event("e2", "tool_result", "ok", toolName: "shell");
        _cli.Http.Get("/runs/run_1/events").Ok(Api.EventsPage(Api.Run(runId: "run_1"), e1, e2));

        var result = await _cli.RunAsync("runs", "events", "run_1", "--json");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal([e1.Json(), e2.Json()], result.StdoutLines);
        Assert.All(result.StdoutLines, l => Api.Parse(l));
        Assert.Empty(result.Stderr);
    }

    [Fact]
    public async Task RunsEvents_HostileMessage_IsEscapedOnOneLine()
    {
        _cli.Http.Get("/runs/run_1/events").Ok(Api.EventsPage(
            Api.Run(runId: "run_1"),
            Api.Event("e1", "log", "\u001b[31mred\u001b[0m\nfake: line\r\u0007\u009b2J\u2028end", toolName: "sh\nell")));

        var result = await _cli.RunAsync("runs", "events", "run_1");

        Assert.Equal(
            ["2025-01-01T10:00:01.000Z  log                tool=sh\\nell  \\x1b[31mred\\x1b[0m\\nfake: line\\r\\x07\\x9b2J\\u2028end"],
            result.StdoutLines);
    }

    [Fact]
    public async Task RunsEvents_HostileMessageAsJson_StaysOneLineWithoutRawEscapes()
    {
        _cli.Http.Get("/runs/run_1/events").Ok(Api.EventsPage(Api.Run(runId: "run_1"), Api.Event("e1", "log", "\u001b[31mred\nline")));

        var result = await _cli.RunAsync("runs", "events", "run_1", "--json");

        var line = Assert.Single(result.StdoutLines);
        Assert.DoesNotContain('\u001b', line);
        Assert.Equal("\u001b[31mred\nline", Api.Parse(line).GetProperty("message").GetString());
    }
}
