using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Mogplex.Contracts.Events;
using Mogplex.Server.Engine.Processes;
using Mogplex.Storage;

namespace Mogplex.Server.Engine.Harnesses;

/// <summary>
/// Maps <c>codex exec --json</c> lines to v1 events (engine.md table). Trap: <c>error</c> lines
/// are also used for retries and warnings; only <c>turn.failed</c> (and the exit code) fail a run.
/// A failed turn is a failed model call: the run's error names its HTTP status when Codex's words
/// tell it and the model API's host. Payload keys avoid the sanitizer's sensitive words (a key
/// containing "token" is redacted). Sandbox paths are rewritten (<see cref="SandboxPaths"/>).
/// </summary>
public sealed partial class CodexOutputParser(HarnessParserContext? context = null) : IHarnessOutputParser
{
    /// <summary>Codex 0.169's text for an HTTP 500 from the model API (its <c>InternalServerError</c>; the body is not shown).</summary>
    private const string InternalServerErrorText = "We’re currently experiencing high demand";

    private readonly HarnessParserContext _context = context ?? HarnessParserContext.None;
    private string? _fatal;

    public IReadOnlyList<HarnessEvent> Parse(HarnessProcess.OutputLine line) => [.. ParseLine(line).Select(_context.Paths.Rewrite)];

    private IReadOnlyList<HarnessEvent> ParseLine(HarnessProcess.OutputLine line)
    {
        var json = line.IsError ? null : JsonLines.TryParse(line.Text);
        if (json is null)
        {
            return [JsonLines.Log(line)];
        }

        var item = json["item"] as JsonObject;
        return JsonLines.Str(json, "type") switch
        {
            "thread.started" => [new HarnessEvent(RunEventTypes.StreamStarted, "Agent started", Payload: new JsonObject { ["harness"] = "codex", ["model"] = _context.Model, ["thread"] = JsonLines.Str(json, "thread_id") })],
            "turn.started" => [],
            "item.started" when item is not null => ItemStarted(item, json),
            "item.updated" => [],
            "item.completed" when item is not null => ItemCompleted(item, json),
            "turn.completed" => [Usage(json["usage"])],
            "turn.failed" => [Failed(JsonLines.Str(json["error"], "message") ?? "turn failed")],
            "error" => [new HarnessEvent(RunEventTypes.Error, JsonLines.Str(json, "message") ?? "error", Payload: new JsonObject { ["fatal"] = false })],
            _ => [JsonLines.Log(line, json)],
        };
    }

    public HarnessOutcome Complete(int exitCode) =>
        _fatal is not null ? HarnessOutcome.Failure(_context.Paths.Rewrite(_fatal))
        : exitCode != 0 ? HarnessOutcome.Failure($"codex exited with code {exitCode}")
        : HarnessOutcome.Success;

    private static IReadOnlyList<HarnessEvent> ItemStarted(JsonObject item, JsonObject raw) => JsonLines.Str(item, "type") switch
    {
        "command_execution" => [new HarnessEvent(RunEventTypes.ToolCall, JsonLines.OneLine(JsonLines.Str(item, "command")), "shell", new JsonObject { ["item"] = JsonLines.Str(item, "id") })],
        "mcp_tool_call" => [new HarnessEvent(RunEventTypes.ToolCall, McpName(item), McpName(item), new JsonObject { ["item"] = JsonLines.Str(item, "id") })],
        "web_search" => [new HarnessEvent(RunEventTypes.ToolCall, JsonLines.OneLine(JsonLines.Str(item, "query")), "web_search", new JsonObject { ["item"] = JsonLines.Str(item, "id") })],
        "file_change" or "reasoning" or "agent_message" or "todo_list" => [],
        _ => [new HarnessEvent(RunEventTypes.Log, $"Unrecognized codex item {JsonLines.Str(item, "type")}", Payload: new JsonObject { ["raw"] = raw.DeepClone() })],
    };

    private static IReadOnlyList<HarnessEvent> ItemCompleted(JsonObject item, JsonObject raw)
    {
        var id = JsonLines.Str(item, "id");
        switch (JsonLines.Str(item, "type"))
        {
            case "command_execution":
                var exit = JsonLines.Long(item, "exit_code");
                return [new HarnessEvent(RunEventTypes.ToolResult, exit is null ? JsonLines.Str(item, "status") ?? "done" : $"exit {exit}", "shell", new JsonObject
                {
                    ["item"] = id,
                    ["exitCode"] = exit,
                    ["output"] = JsonLines.Tail(JsonLines.Str(item, "aggregated_output")),
                })];
            case "file_change":
                var changes = item["changes"] as JsonArray ?? [];
                var paths = changes.Select(c => JsonLines.Str(c, "path") ?? "?").ToList();
                var summary = paths.Count == 1 ? paths[0] : $"{paths.Count} files changed";
                return
                [
                    new HarnessEvent(RunEventTypes.ToolCall, summary, "edit_file", new JsonObject { ["item"] = id, ["changes"] = changes.DeepClone() }),
                    new HarnessEvent(RunEventTypes.ToolResult, summary, "edit_file", new JsonObject { ["item"] = id, ["status"] = JsonLines.Str(item, "status") }),
                ];
            case "mcp_tool_call":
                return [new HarnessEvent(RunEventTypes.ToolResult, JsonLines.Str(item, "status") ?? "done", McpName(item), new JsonObject { ["item"] = id, ["raw"] = item.DeepClone() })];
            case "web_search":
                return [new HarnessEvent(RunEventTypes.ToolResult, "done", "web_search", new JsonObject { ["item"] = id })];
            case "agent_message":
                return [new HarnessEvent(RunEventTypes.AssistantMessage, JsonLines.Str(item, "text") ?? "")];
            case "reasoning":
                return [new HarnessEvent(RunEventTypes.Reasoning, JsonLines.Str(item, "text") ?? "")];
            case "error":
                return [new HarnessEvent(RunEventTypes.Error, JsonLines.Str(item, "message") ?? "error", Payload: new JsonObject { ["fatal"] = false })];
            default:
                return [new HarnessEvent(RunEventTypes.Log, $"Unrecognized codex item {JsonLines.Str(item, "type")}", Payload: new JsonObject { ["raw"] = raw.DeepClone() })];
        }
    }

    private HarnessEvent Failed(string message)
    {
        var status = HttpStatus(message);
        var error = _context.ModelError("codex", status, message);
        _fatal ??= error;
        return new HarnessEvent(RunEventTypes.Error, error, Payload: new JsonObject { ["fatal"] = true, ["status"] = status, ["host"] = _context.ModelHost });
    }

    /// <summary>The HTTP status in Codex's words: <c>unexpected status 401 Unauthorized: …</c>, or its fixed text for a 500.</summary>
    private static int? HttpStatus(string message) =>
        StatusPattern().Match(message) is { Success: true } m ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)
        : message.StartsWith(InternalServerErrorText, StringComparison.Ordinal) ? 500
        : null;

    [GeneratedRegex(@"\bunexpected status (\d{3})\b")]
    private static partial Regex StatusPattern();

    private static HarnessEvent Usage(JsonNode? usage)
    {
        var delta = new UsageDelta(JsonLines.Long(usage, "input_tokens"), JsonLines.Long(usage, "cached_input_tokens"), JsonLines.Long(usage, "output_tokens"), null);
        return new HarnessEvent(
            RunEventTypes.Usage,
            $"{delta.InputTokens ?? 0} in, {delta.OutputTokens ?? 0} out",
            Payload: new JsonObject
            {
                ["input"] = delta.InputTokens,
                ["cachedInput"] = delta.CachedInputTokens,
                ["output"] = delta.OutputTokens,
                ["reasoningOutput"] = JsonLines.Long(usage, "reasoning_output_tokens"),
            },
            Usage: delta);
    }

    private static string McpName(JsonObject item) => $"{JsonLines.Str(item, "server") ?? "mcp"}.{JsonLines.Str(item, "tool") ?? "tool"}";
}
