using Mogplex.Server.Engine.Harnesses;
using Mogplex.Server.Engine.Processes;

namespace Mogplex.Server.Tests.Harnesses;

/// <summary>Normalization of real CLI output (recorded against the model stand-in, see Recorded/README.md).</summary>
public sealed class HarnessParserTests
{
    /// <summary>As the fixtures were rewritten: workspace (checkout) /sandbox, state and temp folders /sandbox-home.</summary>
    private static readonly HarnessParserContext s_recorded = new(new SandboxPaths("/sandbox", "/sandbox-home", null), "gpt-5.5", "models.example:8443");

    private static (List<HarnessEvent> Events, HarnessOutcome Outcome) Replay(IHarnessOutputParser parser, string file, int exitCode)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Harnesses", "Recorded", file);
        var events = File.ReadAllLines(path).Where(l => l.Length > 0).SelectMany(l => parser.Parse(new HarnessProcess.OutputLine(false, l))).ToList();
        return (events, parser.Complete(exitCode));
    }

    private static string[] Types(IEnumerable<HarnessEvent> events) => [.. events.Select(e => e.Type)];

    [Fact]
    public void Codex_Write_ToolCallResultMessageUsageAndSuccess()
    {
        var (events, outcome) = Replay(new CodexOutputParser(), "codex-write.jsonl", 0);
        Assert.Equal(["stream_started", "tool_call", "tool_result", "assistant_message", "usage"], Types(events));
        Assert.Equal("shell", events[1].ToolName);
        Assert.Contains("hello.txt", events[1].Message, StringComparison.Ordinal);
        Assert.Equal("exit 0", events[2].Message);
        Assert.Equal("done", events[3].Message);
        Assert.Equal(new Mogplex.Storage.UsageDelta(200, 80, 40, null), events[4].Usage);
        Assert.True(outcome.Succeeded);
    }

    [Fact]
    public void Codex_FileChange_EditFileCallAndResult()
    {
        var (events, outcome) = Replay(new CodexOutputParser(), "codex-edit.jsonl", 0);
        Assert.Equal(["stream_started", "tool_call", "tool_result", "assistant_message", "usage"], Types(events));
        Assert.All(events.Skip(1).Take(2), e => Assert.Equal("edit_file", e.ToolName));
        Assert.Equal("/sandbox/notes/a.txt", events[1].Message);
        Assert.True(outcome.Succeeded);
    }

    [Fact]
    public void Codex_FileChange_PathsRepoRelative()
    {
        var (events, _) = Replay(new CodexOutputParser(s_recorded), "codex-edit.jsonl", 0);
        Assert.Equal("notes/a.txt", events[1].Message);
        Assert.Equal("notes/a.txt", events[1].Payload!["changes"]![0]!["path"]!.GetValue<string>());
        Assert.DoesNotContain(events, e => (e.Message + e.Payload?.ToJsonString()).Contains("/sandbox", StringComparison.Ordinal));
    }

    [Fact]
    public void Codex_StreamStarted_NamesTheConfiguredModel()
    {
        var (events, _) = Replay(new CodexOutputParser(s_recorded), "codex-write.jsonl", 0);
        Assert.Equal("stream_started", events[0].Type);
        Assert.Equal("gpt-5.5", events[0].Payload!["model"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("codex-fail500.jsonl", 500)]
    [InlineData("codex-fail401.jsonl", 401)]
    public void Codex_ModelFailure_ErrorNamesStatusAndHost(string file, int status)
    {
        var (events, outcome) = Replay(new CodexOutputParser(s_recorded), file, 1);
        Assert.StartsWith($"codex: model API error: HTTP {status} from models.example:8443: ", outcome.Error, StringComparison.Ordinal);
        var fatal = events.Single(e => e.Type == "error" && e.Payload!["fatal"]!.GetValue<bool>());
        Assert.Equal(status, fatal.Payload!["status"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("codex-fail500.jsonl", "high demand")]
    [InlineData("codex-fail401.jsonl", "401 Unauthorized")]
    public void Codex_ModelFailure_FailedWithReason(string file, string reason)
    {
        var (events, outcome) = Replay(new CodexOutputParser(), file, 1);
        Assert.Equal(["stream_started", "error", "error"], Types(events));
        Assert.False(outcome.Succeeded);
        Assert.Contains(reason, outcome.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Codex_TurnFailedButExitZero_StillFailed()
    {
        var parser = new CodexOutputParser();
        parser.Parse(new(false, """{"type":"turn.failed","error":{"message":"boom"}}"""));
        Assert.Equal(HarnessOutcome.Failure("codex: model API error: from the model API: boom"), parser.Complete(0));
    }

    [Fact]
    public void Codex_RetryErrorLine_IsNotFatal()
    {
        var parser = new CodexOutputParser();
        var e = Assert.Single(parser.Parse(new(false, """{"type":"error","message":"Reconnecting... 1/5"}""")));
        Assert.Equal("error", e.Type);
        Assert.True(parser.Complete(0).Succeeded);
    }

    [Fact]
    public void Codex_Cancelled_Exit143_Failed()
    {
        var (events, outcome) = Replay(new CodexOutputParser(), "codex-cancelled.jsonl", 143);
        Assert.Equal(["stream_started", "tool_call"], Types(events));
        Assert.Equal(HarnessOutcome.Failure("codex exited with code 143"), outcome);
    }

    [Fact]
    public void Claude_Write_ToolCallResultMessageUsageAndSuccess()
    {
        var (events, outcome) = Replay(new ClaudeCodeOutputParser(), "claude-write.jsonl", 0);
        Assert.Equal(["stream_started", "tool_call", "tool_result", "assistant_message", "usage"], Types(events));
        Assert.Equal("Bash", events[1].ToolName);
        Assert.Equal("Bash", events[2].ToolName);
        Assert.Equal(200, events[4].Usage!.InputTokens);
        Assert.Equal(80, events[4].Usage!.CachedInputTokens);
        Assert.Equal(40, events[4].Usage!.OutputTokens);
        Assert.Equal(0.001224m, events[4].Usage!.CostUsd);
        Assert.True(outcome.Succeeded);
    }

    [Fact]
    public void Claude_Write_MapsToEditFile()
    {
        var (events, outcome) = Replay(new ClaudeCodeOutputParser(), "claude-edit.jsonl", 0);
        var call = events.Single(e => e.Type == "tool_call");
        Assert.Equal("edit_file", call.ToolName);
        Assert.Equal("/sandbox/notes/a.txt", call.Message);
        Assert.Equal("edit_file", events.Single(e => e.Type == "tool_result").ToolName);
        Assert.True(outcome.Succeeded);
    }

    [Fact]
    public void Claude_Write_PathsRepoRelative()
    {
        var (events, _) = Replay(new ClaudeCodeOutputParser(s_recorded), "claude-edit.jsonl", 0);
        var call = events.Single(e => e.Type == "tool_call");
        Assert.Equal("notes/a.txt", call.Message);
        Assert.Equal("notes/a.txt", call.Payload!["input"]!["file_path"]!.GetValue<string>());
        Assert.StartsWith("File created successfully at: notes/a.txt ", events.Single(e => e.Type == "tool_result").Message, StringComparison.Ordinal);
        Assert.DoesNotContain(events, e => (e.Message + e.Payload?.ToJsonString()).Contains("/sandbox", StringComparison.Ordinal));
    }

    [Fact]
    public void Claude_StreamStarted_NamesTheModel()
    {
        var (events, _) = Replay(new ClaudeCodeOutputParser(s_recorded), "claude-write.jsonl", 0);
        Assert.Equal("stream_started", events[0].Type);
        Assert.Equal("claude-sonnet-4-5", events[0].Payload!["model"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("claude-fail500.jsonl", 500, "API Error: 500 The model stand-in was told to fail")]
    [InlineData("claude-fail401.jsonl", 401, "Invalid API key")]
    public void Claude_ApiError_SyntheticMessageIsAnErrorAndRunErrorNamesStatusAndHost(string file, int status, string text)
    {
        var (events, outcome) = Replay(new ClaudeCodeOutputParser(s_recorded), file, 1);
        Assert.DoesNotContain(events, e => e.Type == "assistant_message");
        var synthetic = events.First(e => e.Type == "error");
        Assert.StartsWith(text, synthetic.Message, StringComparison.Ordinal);
        Assert.False(synthetic.Payload!["fatal"]!.GetValue<bool>());
        Assert.StartsWith($"claude-code: model API error: HTTP {status} from models.example:8443: {text}", outcome.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("claude-fail500.jsonl")]
    [InlineData("claude-fail401.jsonl")]
    public void Claude_ApiErrorWithSubtypeSuccess_Failed(string file)
    {
        var (events, outcome) = Replay(new ClaudeCodeOutputParser(), file, 1);
        Assert.Contains(events, e => e.Type == "error");
        Assert.False(outcome.Succeeded);
        Assert.StartsWith("claude-code: model API error: HTTP ", outcome.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Claude_InterruptedExitZero_Failed()
    {
        var (_, outcome) = Replay(new ClaudeCodeOutputParser(), "claude-interrupted.jsonl", 0);
        Assert.False(outcome.Succeeded);
        Assert.Contains("error_during_execution", outcome.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Claude_CancelledWithoutResult_Failed()
    {
        var (_, outcome) = Replay(new ClaudeCodeOutputParser(), "claude-cancelled.jsonl", 143);
        Assert.Equal(HarnessOutcome.Failure("claude-code ended without a result (exit code 143)"), outcome);
    }

    [Fact]
    public void Claude_PermissionDenials_Failed()
    {
        var parser = new ClaudeCodeOutputParser();
        parser.Parse(new(false, """{"type":"result","subtype":"success","is_error":false,"permission_denials":[{"tool_name":"Bash"}],"usage":{}}"""));
        var outcome = parser.Complete(0);
        Assert.False(outcome.Succeeded);
        Assert.Contains("denied permission 1 time(s) (Bash)", outcome.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("{truncated")]
    [InlineData("[1,2,3]")]
    [InlineData("{\"type\":\"something.new\",\"x\":1}")]
    [InlineData("{\"type\":42}")]
    [InlineData("")]
    public void BothParsers_UnknownOrMalformedLine_BecomesLogNeverThrows(string line)
    {
        IHarnessOutputParser[] parsers = [new CodexOutputParser(), new ClaudeCodeOutputParser()];
        foreach (var parser in parsers)
        {
            var e = Assert.Single(parser.Parse(new(false, line)));
            Assert.Equal("log", e.Type);
        }
    }

    [Fact]
    public void BothParsers_StderrLine_IsLogWithStream()
    {
        var e = Assert.Single(new CodexOutputParser().Parse(new(true, """{"type":"turn.failed"}""")));
        Assert.Equal("log", e.Type);
        Assert.Equal("stderr", e.Payload!["stream"]!.GetValue<string>());
    }

    [Fact]
    public void Exec_EveryLineIsLog_ExitCodeDecides()
    {
        var parser = new ExecHarness().CreateParser(null!);
        Assert.Equal("hello", Assert.Single(parser.Parse(new(false, "hello"))).Message);
        Assert.True(parser.Complete(0).Succeeded);
        Assert.Equal(HarnessOutcome.Failure("exec harness exited with code 3"), parser.Complete(3));
    }
}
