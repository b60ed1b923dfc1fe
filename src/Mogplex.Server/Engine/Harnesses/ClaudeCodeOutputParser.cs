using System.Text.Json.Nodes;
using Mogplex.Contracts.Events;
using Mogplex.Server.Engine.Processes;
using Mogplex.Storage;

namespace Mogplex.Server.Engine.Harnesses;

/// <summary>
/// Maps <c>claude -p --output-format stream-json --verbose</c> lines to v1 events. Traps: an API
/// error ends with <c>is_error: true</c> but <c>subtype: "success"</c>, after a synthetic
/// assistant message (<c>is_api_error_message</c>, e.g. "API Error: 500 …") that is an
/// <c>error</c> event here, not the agent's words; SIGINT exits 0 with <c>error_during_execution</c>;
/// permission denials "succeed". Success needs a result line that is not an error, no denials,
/// and exit code 0 together. Usage comes from the result line only (assistant lines carry partial
/// usage). A model error names its HTTP status and the model API's host. Sandbox paths are
/// rewritten (<see cref="SandboxPaths"/>).
/// </summary>
public sealed class ClaudeCodeOutputParser(HarnessParserContext? context = null) : IHarnessOutputParser
{
    private static readonly HashSet<string> s_editTools = new(StringComparer.Ordinal) { "Edit", "Write", "MultiEdit", "NotebookEdit" };

    private readonly HarnessParserContext _context = context ?? HarnessParserContext.None;
    private readonly Dictionary<string, string> _toolNames = new(StringComparer.Ordinal);
    private string? _fatal;
    private bool _sawResult;

    public IReadOnlyList<HarnessEvent> Parse(HarnessProcess.OutputLine line) => [.. ParseLine(line).Select(_context.Paths.Rewrite)];

    private List<HarnessEvent> ParseLine(HarnessProcess.OutputLine line)
    {
        var json = line.IsError ? null : JsonLines.TryParse(line.Text);
        if (json is null)
        {
            return [JsonLines.Log(line)];
        }

        return (JsonLines.Str(json, "type"), JsonLines.Str(json, "subtype")) switch
        {
            ("system", "init") => [new HarnessEvent(RunEventTypes.StreamStarted, "Agent started", Payload: new JsonObject
            {
                ["harness"] = "claude-code",
                ["model"] = JsonLines.Str(json, "model") ?? _context.Model,
                ["tools"] = json["tools"]?.DeepClone(),
            })],
            ("system", "permission_denied") => [Fatal($"Permission denied: {JsonLines.OneLine(json.ToJsonString())}")],
            ("system", "api_retry") => [new HarnessEvent(RunEventTypes.Error, "Model API retry", Payload: new JsonObject { ["fatal"] = false, ["raw"] = json.DeepClone() })],
            ("assistant", _) when IsApiError(json) => ApiError(json),
            ("assistant", _) => Assistant(json),
            ("user", _) => User(json),
            ("result", _) => Result(json),
            _ => [JsonLines.Log(line, json)],
        };
    }

    public HarnessOutcome Complete(int exitCode) =>
        _fatal is not null ? HarnessOutcome.Failure(_context.Paths.Rewrite(_fatal))
        : !_sawResult ? HarnessOutcome.Failure($"claude-code ended without a result (exit code {exitCode})")
        : exitCode != 0 ? HarnessOutcome.Failure($"claude-code exited with code {exitCode}")
        : HarnessOutcome.Success;

    private List<HarnessEvent> Assistant(JsonObject json)
    {
        var result = new List<HarnessEvent>();
        foreach (var block in (json["message"]?["content"] as JsonArray ?? []).OfType<JsonObject>())
        {
            switch (JsonLines.Str(block, "type"))
            {
                case "text":
                    result.Add(new HarnessEvent(RunEventTypes.AssistantMessage, JsonLines.Str(block, "text") ?? ""));
                    break;
                case "thinking":
                    result.Add(new HarnessEvent(RunEventTypes.Reasoning, JsonLines.Str(block, "thinking") ?? ""));
                    break;
                case "tool_use":
                    var name = JsonLines.Str(block, "name") ?? "tool";
                    var toolName = s_editTools.Contains(name) ? "edit_file" : name;
                    if (JsonLines.Str(block, "id") is { } id)
                    {
                        _toolNames[id] = toolName;
                    }

                    result.Add(new HarnessEvent(RunEventTypes.ToolCall, Summarize(name, block["input"]), toolName, new JsonObject
                    {
                        ["tool"] = name,
                        ["input"] = block["input"]?.DeepClone(),
                    }));
                    break;
                default:
                    result.Add(new HarnessEvent(RunEventTypes.Log, $"Unrecognized claude-code content {JsonLines.Str(block, "type")}", Payload: new JsonObject { ["raw"] = block.DeepClone() }));
                    break;
            }
        }

        return result;
    }

    private List<HarnessEvent> User(JsonObject json)
    {
        var result = new List<HarnessEvent>();
        foreach (var block in (json["message"]?["content"] as JsonArray ?? []).OfType<JsonObject>().Where(b => JsonLines.Str(b, "type") == "tool_result"))
        {
            var isError = block["is_error"] is JsonValue v && v.TryGetValue<bool>(out var e) && e;
            var content = block["content"] switch
            {
                JsonValue s when s.TryGetValue<string>(out var text) => text,
                JsonArray parts => string.Join("\n", parts.Select(p => JsonLines.Str(p, "text")).Where(t => t is not null)),
                _ => "",
            };
            var toolName = JsonLines.Str(block, "tool_use_id") is { } id && _toolNames.TryGetValue(id, out var n) ? n : "tool";
            result.Add(new HarnessEvent(RunEventTypes.ToolResult, (isError ? "error: " : "") + JsonLines.OneLine(content), toolName, new JsonObject
            {
                ["isError"] = isError,
                ["output"] = JsonLines.Tail(content),
            }));
        }

        return result;
    }

    private List<HarnessEvent> Result(JsonObject json)
    {
        _sawResult = true;
        var usage = json["usage"];
        var delta = new UsageDelta(JsonLines.Long(usage, "input_tokens"), JsonLines.Long(usage, "cache_read_input_tokens"), JsonLines.Long(usage, "output_tokens"), JsonLines.Decimal(json, "total_cost_usd"));
        var events = new List<HarnessEvent>
        {
            new(RunEventTypes.Usage, $"{delta.InputTokens ?? 0} in, {delta.OutputTokens ?? 0} out", Payload: new JsonObject
            {
                ["input"] = delta.InputTokens,
                ["cachedInput"] = delta.CachedInputTokens,
                ["output"] = delta.OutputTokens,
                ["costUsd"] = delta.CostUsd,
                ["turns"] = JsonLines.Long(json, "num_turns"),
            }, Usage: delta),
        };
        var isError = json["is_error"] is JsonValue v && v.TryGetValue<bool>(out var e) && e;
        var subtype = JsonLines.Str(json, "subtype");
        var denials = json["permission_denials"] as JsonArray;
        var status = JsonLines.Long(json, "api_error_status");
        if (isError && (status is not null || JsonLines.Str(json, "terminal_reason") == "api_error"))
        {
            var reason = JsonLines.Str(json, "result") ?? JsonLines.Str(json, "api_error_type") ?? "error";
            events.Add(Fatal(_context.ModelError("claude-code", (int?)status, reason), status));
        }
        else if (isError || (subtype is not null && subtype != "success"))
        {
            var reason = JsonLines.Str(json, "result") ?? JsonLines.Str(json, "terminal_reason") ?? subtype ?? "error";
            events.Add(Fatal($"claude-code reported an error ({subtype}): {JsonLines.OneLine(reason)}"));
        }
        else if (denials is { Count: > 0 })
        {
            var tools = string.Join(", ", denials.Select(d => JsonLines.Str(d, "tool_name") ?? "?").Distinct());
            events.Add(Fatal($"claude-code was denied permission {denials.Count} time(s) ({tools})"));
        }

        return events;
    }

    private HarnessEvent Fatal(string message, long? status = null)
    {
        _fatal ??= message;
        var payload = new JsonObject { ["fatal"] = true };
        if (status is not null)
        {
            payload["status"] = status;
            payload["host"] = _context.ModelHost;
        }

        return new HarnessEvent(RunEventTypes.Error, message, Payload: payload);
    }

    /// <summary>Claude Code's own message about a failed model call, shaped like the model's answer.</summary>
    private static bool IsApiError(JsonObject json) =>
        (json["is_api_error_message"] is JsonValue v && v.TryGetValue<bool>(out var b) && b)
        || (JsonLines.Str(json["message"], "model") == "<synthetic>" && JsonLines.Str(json, "error") is not null);

    /// <summary>Not fatal by itself: the result line that follows decides the run.</summary>
    private static List<HarnessEvent> ApiError(JsonObject json)
    {
        var texts = (json["message"]?["content"] as JsonArray ?? []).Select(b => JsonLines.Str(b, "text")).OfType<string>().ToList();
        var message = texts.Count > 0 ? string.Join("\n", texts) : JsonLines.Str(json, "error") ?? "Model API error";
        return [new HarnessEvent(RunEventTypes.Error, message, Payload: new JsonObject
        {
            ["fatal"] = false,
            ["status"] = JsonLines.Long(json, "api_error_status"),
            ["error"] = JsonLines.Str(json, "error"),
        })];
    }

    /// <summary>The command for Bash, the path for file tools, else the compact input.</summary>
    private static string Summarize(string tool, JsonNode? input) =>
        JsonLines.OneLine(JsonLines.Str(input, "command") ?? JsonLines.Str(input, "file_path") ?? JsonLines.Str(input, "path") ?? input?.ToJsonString() ?? tool);
}
