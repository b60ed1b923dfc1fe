using System.Text.Json;
using System.Text.Json.Nodes;
using Mogplex.Contracts.Events;
using Mogplex.Contracts.Json;
using Mogplex.Server.Engine.Harnesses;
using Mogplex.Server.Engine.Processes;
using Mogplex.Server.Events;
using Mogplex.Storage;

namespace Mogplex.Server.Tests.Events;

/// <summary>
/// Events as the server stores and serves them (harness parser → <see cref="RunEvents"/> with its
/// sanitizer → the wire JSON) from the recorded Codex and Claude Code transcripts
/// (Harnesses/Recorded), from harness lines the stand-in never makes the CLIs print (reasoning, MCP,
/// web search, retries), and from payloads the sanitizer has to cut: each validates against its schema.
/// </summary>
public sealed class EventSchemaReplayTests
{
    private static readonly HarnessParserContext s_context = new(new SandboxPaths("/sandbox", "/sandbox-home", null), "gpt-5.5", "models.example:8443");

    private static readonly RunEvents s_events = new(EventSanitizer.Default);

    public static TheoryData<string> RecordedFiles() =>
        [.. Directory.GetFiles(Recorded(), "*.jsonl").Concat(Directory.GetFiles(Path.Combine(Recorded(), "probe"), "*.jsonl")).Select(f => Path.GetRelativePath(Recorded(), f)).Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(RecordedFiles))]
    public void RecordedTranscript_EveryEventValidates(string file)
    {
        var probe = file.StartsWith("probe", StringComparison.Ordinal);
        var codex = Path.GetFileName(file).StartsWith(probe ? "c_" : "codex", StringComparison.Ordinal);
        IHarnessOutputParser parser = codex ? Codex(serveApprovals: probe) : new ClaudeCodeOutputParser(s_context, "[[write hello.txt hi]]", serveApprovals: probe);

        var events = Lines(file, probe).SelectMany(l => parser.Parse(new HarnessProcess.OutputLine(false, l))).Select(Wire).ToList();

        Assert.NotEmpty(events);
        EventSchemaRealRunTests.AssertAllValid(events);
    }

    [Fact]
    public void CodexLinesTheStandInNeverPrints_Validate()
    {
        var parser = Codex();
        string[] lines =
        [
            """{"method":"item/completed","params":{"item":{"type":"reasoning","id":"rs_1","summary":["Look at the tests first."],"content":["The failing test names the parser."]}}}""",
            """{"method":"item/started","params":{"item":{"type":"mcpToolCall","id":"mcp_1","server":"docs","tool":"search","arguments":{"q":"schema"}}}}""",
            """{"method":"item/completed","params":{"item":{"type":"mcpToolCall","id":"mcp_1","server":"docs","tool":"search","status":"completed","result":{"content":[{"type":"text","text":"found"}]}}}}""",
            """{"method":"item/started","params":{"item":{"type":"webSearch","id":"ws_1","query":"json schema 2020-12"}}}""",
            """{"method":"item/completed","params":{"item":{"type":"webSearch","id":"ws_1","query":"json schema 2020-12"}}}""",
            """{"method":"error","params":{"error":{"message":"stream disconnected before completion"},"willRetry":true}}""",
            """{"method":"item/completed","params":{"item":{"type":"somethingNew","id":"x_1","detail":{"a":{"b":{"c":1}}}}}}""",
            """{"method":"thread/somethingNew","params":{}}""",
        ];

        var events = lines.SelectMany(l => parser.Parse(new HarnessProcess.OutputLine(false, l))).Select(Wire).ToList();

        EventSchemaRealRunTests.AssertAllValid(events, "reasoning", "tool_call", "tool_result", "error", "log");
    }

    [Fact]
    public void ClaudeLinesTheStandInNeverPrints_Validate()
    {
        var parser = new ClaudeCodeOutputParser(s_context);
        string[] lines =
        [
            """{"type":"assistant","message":{"content":[{"type":"thinking","thinking":"The test names the parser; read it first."}]}}""",
            """{"type":"assistant","message":{"content":[{"type":"tool_use","id":"t1","name":"mcp__docs__search","input":{"q":"schema","filters":{"deep":{"deeper":{"deepest":1}}}}}]}}""",
            """{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t1","is_error":true,"content":[{"type":"text","text":"no such index"}]}]}}""",
            """{"type":"system","subtype":"api_retry","attempt":1,"session_id":"s-1","error_status":529}""",
            """{"type":"assistant","message":{"content":[{"type":"server_tool_use_new","id":"u1"}]}}""",
            """{"type":"stream_event_new","session_id":"s-1"}""",
        ];

        var events = lines.SelectMany(l => parser.Parse(new HarnessProcess.OutputLine(false, l))).Select(Wire).ToList();

        EventSchemaRealRunTests.AssertAllValid(events, "reasoning", "tool_call", "tool_result", "error", "log");
    }

    public static TheoryData<string> TypesWithPayload() =>
        [.. EventSchemaFileTests.AllTypes.Where(t => Example(t).GetProperty("payload").ValueKind == JsonValueKind.Object)];

    /// <summary>A payload over 20,000 characters of JSON is stored as <c>{truncated, payloadPreview}</c>: the type's schema takes that form.</summary>
    [Theory]
    [MemberData(nameof(TypesWithPayload))]
    public void OversizedPayload_StoredAsItsPreview_Validates(string type)
    {
        var example = Example(type);
        var payload = JsonNode.Parse(example.GetProperty("payload").GetRawText())!.AsObject();
        payload["notes"] = new JsonArray([.. Enumerable.Range(0, 25).Select(i => (JsonNode?)JsonValue.Create(new string((char)('a' + i), 1_500)))]);

        var stored = s_events.Create(type, example.GetProperty("message").GetString(), example.GetProperty("toolName").GetString(), payload);
        var evt = Wire(stored);

        Assert.True(evt.GetProperty("payload").GetProperty("truncated").GetBoolean());
        Assert.Equal(EventSanitizer.MaxPayloadLength, evt.GetProperty("payload").GetProperty("payloadPreview").GetString()!.Length);
        EventSchemaValidator.AssertValid(evt);
    }

    private static CodexAppServerParser Codex(bool serveApprovals = false) =>
        new("[[write hello.txt hi]]", new JsonObject { ["cwd"] = "/sandbox", ["model"] = "gpt-5.5", ["approvalPolicy"] = "never", ["sandbox"] = "danger-full-access", ["ephemeral"] = true }, s_context, serveApprovals);

    private static JsonElement Example(string type)
    {
        using var doc = JsonDocument.Parse(EventSchemaValidator.Text(type));
        return doc.RootElement.GetProperty("examples")[0].Clone();
    }

    private static string Recorded() => Path.Combine(AppContext.BaseDirectory, "Harnesses", "Recorded");

    /// <summary>What the CLI printed: every line of a recorded output file; the <c>&lt;-</c> messages of a probe transcript.</summary>
    private static IEnumerable<string> Lines(string file, bool probe)
    {
        var lines = File.ReadAllLines(Path.Combine(Recorded(), file)).Where(l => l.Length > 0);
        return probe
            ? lines.Select(l => JsonNode.Parse(l)!).Where(n => n["dir"]?.GetValue<string>() == "<-").Select(n => n["msg"]!.ToJsonString())
            : lines;
    }

    private static JsonElement Wire(HarnessEvent e) => Wire(s_events.Create(e.Type, e.Message, e.ToolName, e.Payload));

    /// <summary>The stored event as the API serves it (<see cref="RunEvents.ToContract"/>, the wire's JSON context).</summary>
    private static JsonElement Wire(NewRunEvent e)
    {
        var record = new RunEventRecord(Guid.CreateVersion7().ToString(), Guid.CreateVersion7().ToString(), 1, e.Type, e.ToolName, e.Message, e.PayloadJson, DateTimeOffset.UtcNow);
        var json = JsonSerializer.Serialize(RunEvents.ToContract(record), MogplexJsonContext.Default.RunEvent);
        return JsonDocument.Parse(json).RootElement.Clone();
    }
}

