using System.Text.Json.Nodes;
using Mogplex.Contracts.Events;
using Mogplex.Server.Engine.Processes;
using Mogplex.Server.Runs.Permissions;
using Mogplex.Storage;

namespace Mogplex.Server.Engine.Harnesses;

/// <summary>
/// One run's conversation with <c>claude -p --input-format stream-json --output-format
/// stream-json --verbose</c>: the prompt is the first <c>user</c> line on stdin, each turn ends
/// with one <c>result</c>; a <c>control_request</c> we do not serve gets an error answer and a
/// <c>log</c> event. Maps the output lines to v1 events. Traps: an API
/// error ends with <c>is_error: true</c> but <c>subtype: "success"</c>, after a synthetic
/// assistant message (<c>is_api_error_message</c>, e.g. "API Error: 500 …") that is an
/// <c>error</c> event here, not the agent's words; SIGINT exits 0 with <c>error_during_execution</c>;
/// permission denials "succeed". Success needs a result line that is not an error, no denials,
/// and exit code 0 together. Usage comes from the result line only (assistant lines carry partial
/// usage). A model error names its HTTP status and the model API's host. Sandbox paths are
/// rewritten (<see cref="SandboxPaths"/>).
/// </summary>
public sealed class ClaudeCodeOutputParser : ISessionProtocol
{
    private static readonly HashSet<string> s_editTools = new(StringComparer.Ordinal) { "Edit", "Write", "MultiEdit", "NotebookEdit" };

    private readonly HarnessParserContext _context;
    private readonly List<string> _writes = [];
    private readonly List<SessionSignal> _signals = [];
    private readonly Queue<string> _queuedTurns = new();
    private readonly Dictionary<string, JsonNode?> _pendingAsks = new(StringComparer.Ordinal);
    private readonly bool _serveApprovals;
    private readonly SandboxPathMap _paths;
    private int _turns;
    private int _controlIds;
    private bool _interruptRequested;
    private decimal _costAtTurnStart;
    private readonly Dictionary<string, string> _toolNames = new(StringComparer.Ordinal);
    private string? _fatal;
    private string? _turnError;
    private bool _sawResult;
    private string? _carried;

    /// <param name="context">The run's paths, model and model host.</param>
    /// <param name="prompt">The first turn's text (written as a <c>user</c> line); null to parse output only.</param>
    /// <param name="serveApprovals"><c>can_use_tool</c> asks become <see cref="SessionSignal.ApprovalAsked"/> (permission mode <c>approval</c>); else they are refused.</param>
    /// <param name="paths">The workspace and home as the harness sees them, for describing asks.</param>
    /// <param name="turnsBefore">Turns the conversation had in earlier processes (a resumed session numbers on from them).</param>
    /// <param name="carried">The run's prompt, when a restart found no saved conversation: the first message carries it ahead of its own text.</param>
    public ClaudeCodeOutputParser(HarnessParserContext? context = null, string? prompt = null, bool serveApprovals = false, SandboxPathMap? paths = null, int turnsBefore = 0, string? carried = null)
    {
        _context = context ?? HarnessParserContext.None;
        _turns = turnsBefore;
        _carried = carried;
        _serveApprovals = serveApprovals;
        _paths = paths ?? new SandboxPathMap("/", null);
        if (prompt is not null)
        {
            StartTurn(prompt);
        }
    }

    public bool TurnEnded { get; private set; }

    public bool TurnActive { get; private set; }

    public bool Broken => _fatal is not null;

    /// <summary>The <c>session_id</c> of the <c>system</c> <c>init</c> line.</summary>
    public string? SessionId { get; private set; }

    public IReadOnlyList<SessionSignal> TakeSignals()
    {
        var signals = _signals.ToList();
        _signals.Clear();
        return signals;
    }

    /// <summary>A <c>user</c> line starts a turn; while one runs, the text waits for its <c>result</c>.</summary>
    public void StartTurn(string text)
    {
        if (TurnActive)
        {
            _queuedTurns.Enqueue(text);
            return;
        }

        TurnActive = true;
        _turns++;
        _writes.Add(UserLine(_carried is null ? [text] : [_carried, text]));
        _carried = null;
        _signals.Add(new SessionSignal.TurnStarted(TurnId));
    }

    /// <summary>Claude Code cannot add to a running turn: the text waits for it to end.</summary>
    public bool Steer(string text)
    {
        StartTurn(text);
        return false;
    }

    public void Answer(string approvalRef, bool approve, string? reason)
    {
        if (!_pendingAsks.Remove(approvalRef, out var input))
        {
            return;
        }

        var decision = approve
            ? new JsonObject { ["behavior"] = "allow", ["updatedInput"] = input?.DeepClone() ?? new JsonObject() }
            : new JsonObject { ["behavior"] = "deny", ["message"] = reason ?? "The operator rejected this in mogplex." };
        _writes.Add(new JsonObject
        {
            ["type"] = "control_response",
            ["response"] = new JsonObject { ["subtype"] = "success", ["request_id"] = approvalRef, ["response"] = decision },
        }.ToJsonString());
    }

    public void Interrupt()
    {
        if (TurnActive)
        {
            _interruptRequested = true;
            _writes.Add(new JsonObject
            {
                ["type"] = "control_request",
                ["request_id"] = "int-" + (++_controlIds).ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["request"] = new JsonObject { ["subtype"] = "interrupt" },
            }.ToJsonString());
        }
    }

    private string TurnId => "turn-" + _turns.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public IReadOnlyList<string> TakeWrites()
    {
        var lines = _writes.ToList();
        _writes.Clear();
        return lines;
    }

    /// <summary>One <c>user</c> message on stdin (one text, or several as text blocks): it starts a turn.</summary>
    public static string UserLine(params string[] texts) => new JsonObject
    {
        ["type"] = "user",
        ["message"] = new JsonObject
        {
            ["role"] = "user",
            ["content"] = texts.Length == 1 ? texts[0] : new JsonArray([.. texts.Select(t => (JsonNode)new JsonObject { ["type"] = "text", ["text"] = t })]),
        },
        ["parent_tool_use_id"] = null,
        ["session_id"] = "",
    }.ToJsonString();

    public IReadOnlyList<HarnessEvent> Parse(HarnessProcess.OutputLine line) => [.. ParseLine(line).Select(_context.Paths.Rewrite)];

    private List<HarnessEvent> ParseLine(HarnessProcess.OutputLine line)
    {
        var json = line.IsError ? null : JsonLines.TryParse(line.Text);
        if (json is null)
        {
            return [JsonLines.Log(line)];
        }

        if (JsonLines.Str(json, "type") == "system" && JsonLines.Str(json, "subtype") == "init")
        {
            SessionId = JsonLines.Str(json, "session_id") ?? SessionId;
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
            ("control_request", _) => ControlRequest(json),
            ("control_cancel_request", _) => Withdrawn(JsonLines.Str(json, "request_id")),
            ("control_response", _) => [],
            _ => [JsonLines.Log(line, json)],
        };
    }

    public HarnessOutcome Complete(int exitCode) =>
        (_fatal ?? _turnError) is { } error ? HarnessOutcome.Failure(_context.Paths.Rewrite(error))
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
        TurnEnded = true;
        TurnActive = false;
        var usage = json["usage"];
        // usage is per turn; total_cost_usd is cumulative over the process: its delta is this turn's.
        var totalCost = JsonLines.Decimal(json, "total_cost_usd");
        var cost = totalCost is { } c ? c - _costAtTurnStart : (decimal?)null;
        _costAtTurnStart = totalCost ?? _costAtTurnStart;
        var delta = new UsageDelta(JsonLines.Long(usage, "input_tokens"), JsonLines.Long(usage, "cache_read_input_tokens"), JsonLines.Long(usage, "output_tokens"), cost);
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
        var terminal = JsonLines.Str(json, "terminal_reason");
        var turnStatus = "completed";
        HarnessEvent? failure = null;
        if (isError && (status is not null || terminal == "api_error"))
        {
            var reason = JsonLines.Str(json, "result") ?? JsonLines.Str(json, "api_error_type") ?? "error";
            failure = TurnFailure(_context.ModelError("claude-code", (int?)status, reason), status);
        }
        else if (_interruptRequested && terminal is not null && terminal.StartsWith("aborted", StringComparison.Ordinal))
        {
            // Our interrupt: the user's wish, not a failure; the session goes on.
            turnStatus = "interrupted";
        }
        else if (isError || (subtype is not null && subtype != "success"))
        {
            var reason = JsonLines.Str(json, "result") ?? terminal ?? subtype ?? "error";
            failure = TurnFailure($"claude-code reported an error ({subtype}): {JsonLines.OneLine(reason)}");
        }
        else if (denials is { Count: > 0 } && !_serveApprovals)
        {
            // Without approvals nothing should be denied; with them a denial is an answer we gave.
            var tools = string.Join(", ", denials.Select(d => JsonLines.Str(d, "tool_name") ?? "?").Distinct());
            failure = TurnFailure($"claude-code was denied permission {denials.Count} time(s) ({tools})");
        }

        if (failure is not null)
        {
            turnStatus = "failed";
            events.Add(failure);
        }
        else
        {
            _turnError = null;
        }

        _interruptRequested = false;
        foreach (var reference in _pendingAsks.Keys.ToList())
        {
            _pendingAsks.Remove(reference);
            _signals.Add(new SessionSignal.ApprovalWithdrawn(reference));
        }

        _signals.Add(new SessionSignal.TurnCompleted(TurnId, turnStatus, failure?.Message, delta));
        if (_queuedTurns.TryDequeue(out var next))
        {
            StartTurn(next);
        }

        return events;
    }

    /// <summary>The last turn failed: the run fails unless a later turn succeeds.</summary>
    private HarnessEvent TurnFailure(string message, long? status = null)
    {
        _turnError = message;
        var payload = new JsonObject { ["fatal"] = true };
        if (status is not null)
        {
            payload["status"] = status;
            payload["host"] = _context.ModelHost;
        }

        return new HarnessEvent(RunEventTypes.Error, message, Payload: payload);
    }

    private List<HarnessEvent> Withdrawn(string? requestId)
    {
        if (requestId is not null && _pendingAsks.Remove(requestId))
        {
            _signals.Add(new SessionSignal.ApprovalWithdrawn(requestId));
        }

        return [];
    }

    /// <summary>
    /// A request from the CLI: a permission ask (<c>can_use_tool</c>) when the run serves approvals
    /// becomes <see cref="SessionSignal.ApprovalAsked"/>; anything else gets an error answer and is logged.
    /// </summary>
    private List<HarnessEvent> ControlRequest(JsonObject json)
    {
        var subtype = JsonLines.Str(json["request"], "subtype") ?? "?";
        if (_serveApprovals && subtype == "can_use_tool" && JsonLines.Str(json, "request_id") is { } id)
        {
            var request = json["request"]!;
            var input = request["input"];
            var fields = (input as JsonObject ?? []).Where(kv => kv.Value is JsonValue v && v.TryGetValue<string>(out _)).ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<string>(), StringComparer.Ordinal);
            _pendingAsks[id] = input?.DeepClone();
            _signals.Add(new SessionSignal.ApprovalAsked(id, ToolCalls.Claude(JsonLines.Str(request, "tool_name") ?? "?", fields, JsonLines.Str(request, "blocked_path"), _paths), TurnId));
            return [];
        }

        _writes.Add(new JsonObject
        {
            ["type"] = "control_response",
            ["response"] = new JsonObject
            {
                ["subtype"] = "error",
                ["request_id"] = json["request_id"]?.DeepClone(),
                ["error"] = $"mogplexd does not serve {subtype} here",
            },
        }.ToJsonString());
        return [new HarnessEvent(RunEventTypes.Log, $"Refused claude-code request {subtype}", Payload: new JsonObject { ["subtype"] = subtype })];
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
