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

    /// <summary>A Codex app-server session as the engine starts it (the parser writes what the CLI answered, the fixture is what it printed).</summary>
    private static CodexAppServerParser Codex(HarnessParserContext? context = null) =>
        new("[[write hello.txt hi]]", new System.Text.Json.Nodes.JsonObject { ["cwd"] = "/sandbox", ["model"] = "gpt-5.5", ["approvalPolicy"] = "never", ["sandbox"] = "danger-full-access", ["ephemeral"] = true }, context);

    [Fact]
    public void Codex_Write_ToolCallResultMessageUsageAndSuccess()
    {
        var (events, outcome) = Replay(Codex(), "codex-session-write.jsonl", 0);
        Assert.Equal(["stream_started", "tool_call", "tool_result", "assistant_message", "usage"], Types(events));
        Assert.Equal("shell", events[1].ToolName);
        Assert.Contains("hello.txt", events[1].Message, StringComparison.Ordinal);
        Assert.Equal("exit 0", events[2].Message);
        Assert.Equal("done", events[3].Message);
        Assert.Equal(new Mogplex.Storage.UsageDelta(200, 80, 40, null), events[4].Usage);
        Assert.True(outcome.Succeeded);
    }

    [Fact]
    public void Codex_Session_WritesInitializeThreadStartAndTheTurn_ThenTheTurnEnds()
    {
        var parser = Codex();
        var first = parser.TakeWrites();
        Assert.Equal("""{"id":1,"method":"initialize","params":{"clientInfo":{"name":"mogplexd","title":null,"version":"__V__"},"capabilities":{"experimentalApi":false,"requestAttestation":false}}}""".Replace("__V__", Mogplex.Server.VersionInfo.Version, StringComparison.Ordinal), Assert.Single(first));
        var writes = new List<string>();
        var path = Path.Combine(AppContext.BaseDirectory, "Harnesses", "Recorded", "codex-session-write.jsonl");
        foreach (var line in File.ReadAllLines(path).Where(l => l.Length > 0))
        {
            Assert.False(parser.TurnEnded);
            parser.Parse(new HarnessProcess.OutputLine(false, line));
            writes.AddRange(parser.TakeWrites());
        }

        Assert.True(parser.TurnEnded);
        Assert.Equal(3, writes.Count);
        Assert.Equal("""{"method":"initialized"}""", writes[0]);
        Assert.StartsWith("""{"id":2,"method":"thread/start","params":{"cwd":"/sandbox","model":"gpt-5.5","approvalPolicy":"never","sandbox":"danger-full-access","ephemeral":true}}""", writes[1], StringComparison.Ordinal);
        var turn = System.Text.Json.Nodes.JsonNode.Parse(writes[2])!;
        Assert.Equal("turn/start", turn["method"]!.GetValue<string>());
        Assert.Equal("[[write hello.txt hi]]", turn["params"]!["input"]![0]!["text"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(turn["params"]!["threadId"]!.GetValue<string>()));
    }

    [Fact]
    public void Codex_FileChange_EditFileCallAndResult()
    {
        var (events, outcome) = Replay(Codex(), "codex-session-edit.jsonl", 0);
        Assert.Equal(["stream_started", "tool_call", "tool_result", "assistant_message", "usage"], Types(events));
        Assert.All(events.Skip(1).Take(2), e => Assert.Equal("edit_file", e.ToolName));
        Assert.Equal("/sandbox/notes/a.txt", events[1].Message);
        Assert.True(outcome.Succeeded);
    }

    [Fact]
    public void Codex_FileChange_PathsRepoRelative()
    {
        var (events, _) = Replay(Codex(s_recorded), "codex-session-edit.jsonl", 0);
        Assert.Equal("notes/a.txt", events[1].Message);
        Assert.Equal("notes/a.txt", events[1].Payload!["changes"]![0]!["path"]!.GetValue<string>());
        Assert.Equal("add", events[1].Payload!["changes"]![0]!["kind"]!.GetValue<string>());
        Assert.DoesNotContain(events, e => (e.Message + e.Payload?.ToJsonString()).Contains("/sandbox", StringComparison.Ordinal));
    }

    [Fact]
    public void Codex_StreamStarted_NamesTheModel()
    {
        var (events, _) = Replay(Codex(s_recorded), "codex-session-write.jsonl", 0);
        Assert.Equal("stream_started", events[0].Type);
        Assert.Equal("gpt-5.5", events[0].Payload!["model"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(events[0].Payload!["thread"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData("codex-session-fail500.jsonl", 500)]
    [InlineData("codex-session-fail401.jsonl", 401)]
    public void Codex_ModelFailure_ErrorNamesStatusAndHost(string file, int status)
    {
        var (events, outcome) = Replay(Codex(s_recorded), file, 0);
        Assert.StartsWith($"codex: model API error: HTTP {status} from models.example:8443: ", outcome.Error, StringComparison.Ordinal);
        var fatal = events.Single(e => e.Type == "error" && e.Payload!["fatal"]!.GetValue<bool>());
        Assert.Equal(status, fatal.Payload!["status"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("codex-session-fail500.jsonl", "high demand")]
    [InlineData("codex-session-fail401.jsonl", "401 Unauthorized")]
    public void Codex_ModelFailure_FailedWithReason(string file, string reason)
    {
        var (events, outcome) = Replay(Codex(), file, 0);
        Assert.Equal("stream_started", events[0].Type);
        Assert.Contains(events, e => e.Type == "error" && e.Payload!["fatal"]!.GetValue<bool>());
        Assert.False(outcome.Succeeded);
        Assert.Contains(reason, outcome.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Codex_TurnFailedButExitZero_StillFailed()
    {
        var parser = Codex();
        parser.Parse(new(false, """{"method":"turn/completed","params":{"threadId":"t","turn":{"id":"u","status":"failed","error":{"message":"boom"}}}}"""));
        Assert.True(parser.TurnEnded);
        Assert.Equal(HarnessOutcome.Failure("codex: model API error: from the model API: boom"), parser.Complete(0));
    }

    [Fact]
    public void Codex_RetryErrorNotification_IsNotFatal()
    {
        var parser = Codex();
        var e = Assert.Single(parser.Parse(new(false, """{"method":"error","params":{"error":{"message":"Reconnecting... 1/5"},"willRetry":true}}""")));
        Assert.Equal("error", e.Type);
        Assert.False(e.Payload!["fatal"]!.GetValue<bool>());
        parser.Parse(new(false, """{"method":"turn/completed","params":{"turn":{"id":"u","status":"completed","error":null}}}"""));
        Assert.True(parser.Complete(0).Succeeded);
    }

    [Fact]
    public void Codex_EndedBeforeItsTurnCompleted_Failed()
    {
        var (events, outcome) = (Codex().Parse(new(false, """{"id":1,"result":{}}""")), Codex().Complete(143));
        Assert.Empty(events);
        Assert.Equal(HarnessOutcome.Failure("codex exited with code 143"), outcome);
        Assert.Equal(HarnessOutcome.Failure("codex app-server ended before the turn completed"), Codex().Complete(0));
    }

    [Fact]
    public void Codex_RequestItDoesNotServe_GetsAJsonRpcErrorAndALog()
    {
        var parser = Codex();
        parser.TakeWrites();
        var e = Assert.Single(parser.Parse(new(false, """{"id":7,"method":"item/tool/requestUserInput","params":{"questions":[]}}""")));
        Assert.Equal("log", e.Type);
        Assert.Equal("""{"id":7,"error":{"code":-32601,"message":"mogplexd does not serve item/tool/requestUserInput here"}}""", Assert.Single(parser.TakeWrites()));
    }

    [Fact]
    public void Codex_RefusedStep_IsFatalAndEndsTheTurn()
    {
        var parser = Codex();
        var e = Assert.Single(parser.Parse(new(false, """{"id":2,"error":{"code":-32600,"message":"unknown model"}}""")));
        Assert.Equal("error", e.Type);
        Assert.True(parser.TurnEnded);
        Assert.Equal(HarnessOutcome.Failure("codex app-server refused thread/start: unknown model"), parser.Complete(0));
    }

    [Fact]
    public void Codex_UsageIsTheTurnsDeltaOfTheThreadTotal()
    {
        var parser = Codex();
        static string Usage(int input, int output) =>
            "{\"method\":\"thread/tokenUsage/updated\",\"params\":{\"tokenUsage\":{\"total\":{\"inputTokens\":" + input.ToString(System.Globalization.CultureInfo.InvariantCulture)
            + ",\"cachedInputTokens\":0,\"outputTokens\":" + output.ToString(System.Globalization.CultureInfo.InvariantCulture) + ",\"reasoningOutputTokens\":0}}}}";
        const string Done = """{"method":"turn/completed","params":{"turn":{"id":"u","status":"completed","error":null}}}""";
        parser.Parse(new(false, Usage(50, 10)));
        parser.Parse(new(false, Usage(100, 20)));
        var first = Assert.Single(parser.Parse(new(false, Done)));
        parser.Parse(new(false, Usage(150, 30)));
        var second = Assert.Single(parser.Parse(new(false, Done)));

        Assert.Equal(new Mogplex.Storage.UsageDelta(100, 0, 20, null), first.Usage);
        Assert.Equal(new Mogplex.Storage.UsageDelta(50, 0, 10, null), second.Usage);
    }

    [Theory]
    [InlineData("claude-session-write.jsonl", true)]
    [InlineData("claude-session-edit.jsonl", true)]
    [InlineData("claude-session-fail500.jsonl", false)]
    [InlineData("claude-session-fail401.jsonl", false)]
    public void Claude_Session_PromptIsTheFirstUserLine_TheResultEndsTheTurn(string file, bool succeeds)
    {
        var parser = new ClaudeCodeOutputParser(s_recorded, "[[write hello.txt hi]]");
        var first = System.Text.Json.Nodes.JsonNode.Parse(Assert.Single(parser.TakeWrites()))!;
        Assert.Equal("user", first["type"]!.GetValue<string>());
        Assert.Equal("[[write hello.txt hi]]", first["message"]!["content"]!.GetValue<string>());

        var (events, outcome) = Replay(parser, file, 0);

        Assert.True(parser.TurnEnded);
        Assert.Empty(parser.TakeWrites());
        Assert.Equal("stream_started", events[0].Type);
        Assert.Equal(succeeds, outcome.Succeeded);
    }

    [Fact]
    public void Claude_ControlRequestItDoesNotServe_GetsAnErrorAnswerAndALog()
    {
        var parser = new ClaudeCodeOutputParser();
        var e = Assert.Single(parser.Parse(new(false, """{"type":"control_request","request_id":"r1","request":{"subtype":"can_use_tool","tool_name":"Bash","input":{"command":"ls"}}}""")));
        Assert.Equal("log", e.Type);
        Assert.Equal("""{"type":"control_response","response":{"subtype":"error","request_id":"r1","error":"mogplexd does not serve can_use_tool here"}}""", Assert.Single(parser.TakeWrites()));
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
        IHarnessOutputParser[] parsers = [Codex(), new ClaudeCodeOutputParser()];
        foreach (var parser in parsers)
        {
            var e = Assert.Single(parser.Parse(new(false, line)));
            Assert.Equal("log", e.Type);
        }
    }

    [Fact]
    public void BothParsers_StderrLine_IsLogWithStream()
    {
        var e = Assert.Single(Codex().Parse(new(true, """{"method":"turn/completed"}""")));
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
