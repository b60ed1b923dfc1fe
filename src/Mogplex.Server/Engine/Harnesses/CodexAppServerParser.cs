using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Mogplex.Contracts.Events;
using Mogplex.Server.Engine.Processes;
using Mogplex.Server.Runs.Permissions;
using Mogplex.Storage;

namespace Mogplex.Server.Engine.Harnesses;

/// <summary>
/// One run's conversation with <c>codex app-server</c> (JSON-RPC objects, one per line, without
/// <c>"jsonrpc"</c>): <c>initialize</c> → <c>initialized</c> → <c>thread/start</c> →
/// <c>turn/start</c> with the prompt; then its notifications become v1 events (engine.md table):
/// command and file-change items are tool calls and results, agent messages and reasoning are
/// text, <c>thread/tokenUsage/updated</c> (cumulative over the thread) gives one usage event per
/// turn as a delta, and a failed turn is a failed model call whose error names the HTTP status
/// and the model host. A request the harness sends that we do not serve gets a JSON-RPC error and
/// a <c>log</c> event, except, when the run serves approvals, a command or file-change approval:
/// that is an <see cref="SessionSignal.ApprovalAsked"/> the engine answers (<see cref="Answer"/>;
/// a turn that ends first withdraws it). Follow-ups are new <c>turn/start</c>s on the same thread,
/// an interrupt is <c>turn/interrupt</c>. Payload keys avoid the sanitizer's sensitive words;
/// sandbox paths are rewritten (<see cref="SandboxPaths"/>).
/// </summary>
public sealed partial class CodexAppServerParser : ISessionProtocol
{
    /// <summary>Codex 0.169's text for an HTTP 500 from the model API (its <c>InternalServerError</c>; the body is not shown).</summary>
    private const string InternalServerErrorText = "We’re currently experiencing high demand";

    private const int InitializeId = 1;
    private const int ThreadStartId = 2;
    private const int FirstTurnId = 3;

    /// <summary>Notifications that carry nothing a run's events need (deltas, status, rate limits…).</summary>
    private static readonly HashSet<string> s_quiet = new(StringComparer.Ordinal)
    {
        "thread/started", "thread/status/changed", "turn/diff/updated", "turn/plan/updated",
        "remoteControl/status/changed", "account/rateLimits/updated", "serverRequest/resolved",
        "item/agentMessage/delta", "item/commandExecution/outputDelta", "item/reasoning/summaryTextDelta",
        "item/reasoning/summaryPartAdded", "item/reasoning/textDelta", "item/fileChange/outputDelta",
        "item/plan/delta", "thread/name/updated", "mcpServer/startupStatus/updated", "skills/changed",
    };

    private readonly HarnessParserContext _context;
    private readonly string _prompt;
    private readonly JsonObject _threadStart;
    private readonly List<string> _writes = [];
    private readonly List<SessionSignal> _signals = [];
    private readonly Queue<string> _queuedTurns = new();
    private readonly Dictionary<string, JsonNode> _pendingAsks = new(StringComparer.Ordinal);
    /// <summary>Our <c>turn/steer</c> requests by id, with their text: a refused steer becomes a follow-up.</summary>
    private readonly Dictionary<long, string> _steers = [];

    /// <summary>Our <c>turn/interrupt</c> request ids: a refusal (the turn ended first) is not a failure.</summary>
    private readonly HashSet<long> _interrupts = [];
    private readonly Dictionary<string, List<FileChange>> _fileChanges = new(StringComparer.Ordinal);
    private readonly bool _serveApprovals;
    private readonly SandboxPathMap _paths;
    private int _nextId = FirstTurnId + 1;
    private readonly string? _resumeThread;
    private string? _carried;
    private string? _threadId;
    private string? _turnId;
    private bool _interruptRequested;
    private string? _fatal;
    private string? _turnError;
    private UsageTotals _usageAtTurnStart = UsageTotals.Zero;
    private UsageTotals _usage = UsageTotals.Zero;

    /// <param name="prompt">The first turn's text.</param>
    /// <param name="threadStart">The <c>thread/start</c> parameters (cwd, model, approval policy, sandbox).</param>
    /// <param name="context">The run's paths, model and model host.</param>
    /// <param name="serveApprovals">Approval requests become <see cref="SessionSignal.ApprovalAsked"/> (permission mode <c>approval</c>); else they are refused.</param>
    /// <param name="paths">The workspace and home as the harness sees them, for describing asks.</param>
    /// <param name="resumeThread">A thread of an earlier process to resume (<c>thread/resume</c> with the same settings) instead of starting one; no prompt is sent.</param>
    /// <param name="carryPrompt">A restart found no saved thread: a new one starts, and the first message carries the prompt ahead of its own text (nothing is sent before).</param>
    public CodexAppServerParser(string prompt, JsonObject threadStart, HarnessParserContext? context = null, bool serveApprovals = false, SandboxPathMap? paths = null, string? resumeThread = null, bool carryPrompt = false)
    {
        _context = context ?? HarnessParserContext.None;
        _resumeThread = resumeThread;
        _carried = carryPrompt ? prompt : null;
        _prompt = prompt;
        _threadStart = threadStart;
        _serveApprovals = serveApprovals;
        _paths = paths ?? new SandboxPathMap(JsonLines.Str(threadStart, "cwd") ?? "/", null);
        Write(new JsonObject
        {
            ["id"] = InitializeId,
            ["method"] = "initialize",
            ["params"] = new JsonObject
            {
                ["clientInfo"] = new JsonObject { ["name"] = "mogplexd", ["title"] = null, ["version"] = VersionInfo.Version },
                ["capabilities"] = new JsonObject { ["experimentalApi"] = false, ["requestAttestation"] = false },
            },
        });
    }

    public bool TurnEnded { get; private set; }

    public bool TurnActive { get; private set; }

    public bool Broken => _fatal is not null;

    public string? SessionId => _threadId;

    public IReadOnlyList<string> TakeWrites()
    {
        var lines = _writes.ToList();
        _writes.Clear();
        return lines;
    }

    public IReadOnlyList<SessionSignal> TakeSignals()
    {
        var signals = _signals.ToList();
        _signals.Clear();
        return signals;
    }

    public void StartTurn(string text)
    {
        if (_threadId is null || TurnActive)
        {
            _queuedTurns.Enqueue(text);
            return;
        }

        WriteTurn(_nextId++, text);
    }

    public bool Steer(string text)
    {
        if (!TurnActive || _threadId is null || _turnId is null)
        {
            StartTurn(text);
            return false;
        }

        var id = _nextId++;
        _steers[id] = text;
        Write(new JsonObject
        {
            ["id"] = id,
            ["method"] = "turn/steer",
            ["params"] = new JsonObject
            {
                ["threadId"] = _threadId,
                ["expectedTurnId"] = _turnId,
                ["input"] = new JsonArray([.. (_carried is null ? [text] : new[] { _carried, text }).Select(t => (JsonNode)new JsonObject { ["type"] = "text", ["text"] = t, ["text_elements"] = new JsonArray() })]),
            },
        });
        _carried = null;
        return true;
    }

    public void Answer(string approvalRef, bool approve, string? reason)
    {
        if (_pendingAsks.Remove(approvalRef, out var id))
        {
            Write(new JsonObject { ["id"] = id.DeepClone(), ["result"] = new JsonObject { ["decision"] = approve ? "accept" : "decline" } });
        }
    }

    public void Interrupt()
    {
        if (TurnActive && _threadId is not null && _turnId is not null)
        {
            _interruptRequested = true;
            _interrupts.Add(_nextId);
            Write(new JsonObject { ["id"] = _nextId++, ["method"] = "turn/interrupt", ["params"] = new JsonObject { ["threadId"] = _threadId, ["turnId"] = _turnId } });
        }
    }

    public IReadOnlyList<HarnessEvent> Parse(HarnessProcess.OutputLine line) => [.. ParseLine(line).Select(_context.Paths.Rewrite)];

    public HarnessOutcome Complete(int exitCode) =>
        (_fatal ?? _turnError) is { } error ? HarnessOutcome.Failure(_context.Paths.Rewrite(error))
        : exitCode != 0 ? HarnessOutcome.Failure($"codex exited with code {exitCode}")
        : !TurnEnded ? HarnessOutcome.Failure("codex app-server ended before the turn completed")
        : HarnessOutcome.Success;

    private IReadOnlyList<HarnessEvent> ParseLine(HarnessProcess.OutputLine line)
    {
        var json = line.IsError ? null : JsonLines.TryParse(line.Text);
        if (json is null)
        {
            return [JsonLines.Log(line)];
        }

        var method = JsonLines.Str(json, "method");
        var hasId = json["id"] is JsonValue;
        if (method is null && hasId)
        {
            return Response(json);
        }

        if (method is not null && hasId)
        {
            return ServerRequest(json, method);
        }

        var p = json["params"] as JsonObject;
        return method switch
        {
            null => [JsonLines.Log(line, json)],
            "item/started" when p?["item"] is JsonObject item => ItemStarted(item),
            "item/completed" when p?["item"] is JsonObject item => ItemCompleted(item),
            "thread/tokenUsage/updated" => TokenUsage(p),
            "turn/completed" => TurnCompleted(p?["turn"] as JsonObject),
            "turn/started" => TurnStarted(p?["turn"] as JsonObject),
            "error" => [new HarnessEvent(RunEventTypes.Error, JsonLines.Str(p?["error"], "message") ?? "error", Payload: new JsonObject { ["fatal"] = false, ["willRetry"] = p?["willRetry"]?.DeepClone() })],
            _ when s_quiet.Contains(method) || method.StartsWith("item/", StringComparison.Ordinal) && method.EndsWith("Delta", StringComparison.Ordinal) => [],
            _ => [new HarnessEvent(RunEventTypes.Log, $"codex notification {method}", Payload: new JsonObject { ["method"] = method })],
        };
    }

    /// <summary>The answer to one of our requests: each step starts the next one.</summary>
    private IReadOnlyList<HarnessEvent> Response(JsonObject json)
    {
        var id = JsonLines.Long(json, "id");
        if (id is { } steerId && _steers.Remove(steerId, out var steered))
        {
            if (json["error"] is not JsonObject refused)
            {
                return [];
            }

            // The turn ended meanwhile (or steering is refused): the text is the next turn's.
            StartTurn(steered);
            return [new HarnessEvent(RunEventTypes.Log, "codex refused to add the message to the running turn: it is queued for the next one", Payload: new JsonObject { ["error"] = JsonLines.Str(refused, "message") })];
        }

        if (id is { } interruptId && _interrupts.Remove(interruptId))
        {
            return [];
        }

        if (json["error"] is JsonObject error)
        {
            var step = id switch { InitializeId => "initialize", ThreadStartId => _resumeThread is null ? "thread/start" : "thread/resume", _ => "turn/start" };
            var message = $"codex app-server refused {step}: {JsonLines.Str(error, "message") ?? error.ToJsonString()}";
            _fatal ??= message;
            TurnEnded = true;
            return [new HarnessEvent(RunEventTypes.Error, message, Payload: new JsonObject { ["fatal"] = true })];
        }

        switch (id)
        {
            case InitializeId:
                Write(new JsonObject { ["method"] = "initialized" });
                if (_resumeThread is null)
                {
                    Write(new JsonObject { ["id"] = ThreadStartId, ["method"] = "thread/start", ["params"] = _threadStart.DeepClone() });
                }
                else
                {
                    var resume = (JsonObject)_threadStart.DeepClone();
                    resume.Remove("ephemeral");
                    resume["threadId"] = _resumeThread;
                    Write(new JsonObject { ["id"] = ThreadStartId, ["method"] = "thread/resume", ["params"] = resume });
                }

                return [];
            case ThreadStartId:
                var result = json["result"];
                _threadId = JsonLines.Str(result?["thread"], "id") ?? _resumeThread;
                if (_resumeThread is null && _carried is null)
                {
                    WriteTurn(FirstTurnId, _prompt);
                }
                else if (_queuedTurns.TryDequeue(out var waiting))
                {
                    WriteTurn(_nextId++, waiting);
                }

                return [new HarnessEvent(RunEventTypes.StreamStarted, "Agent started", Payload: new JsonObject
                {
                    ["harness"] = "codex",
                    ["model"] = JsonLines.Str(result, "model") ?? _context.Model,
                    ["thread"] = _threadId,
                })];
            default:
                // turn/start answers with its turn (the turn/started notification may come first).
                _turnId = JsonLines.Str(json["result"]?["turn"], "id") ?? _turnId;
                return [];
        }
    }

    private void WriteTurn(int id, string text)
    {
        TurnActive = true;
        Write(new JsonObject
        {
            ["id"] = id,
            ["method"] = "turn/start",
            ["params"] = new JsonObject
            {
                ["threadId"] = _threadId,
                ["input"] = new JsonArray([.. (_carried is null ? [text] : new[] { _carried, text }).Select(t => (JsonNode)new JsonObject { ["type"] = "text", ["text"] = t, ["text_elements"] = new JsonArray() })]),
            },
        });
        _carried = null;
    }

    /// <summary>A request from the harness (an approval, a question, a tool): not served in this mode; it gets an error and is logged.</summary>
    private IReadOnlyList<HarnessEvent> ServerRequest(JsonObject json, string method)
    {
        var p = json["params"] as JsonObject;
        if (_serveApprovals && method is "item/commandExecution/requestApproval" or "item/fileChange/requestApproval")
        {
            var id = json["id"]!;
            var reference = id.ToJsonString();
            _pendingAsks[reference] = id.DeepClone();
            var call = method == "item/fileChange/requestApproval"
                ? ToolCalls.CodexPatch(_fileChanges.GetValueOrDefault(JsonLines.Str(p, "itemId") ?? "") ?? [], _paths)
                : ToolCalls.CodexCommand(
                    JsonLines.Str(p, "command") ?? "",
                    [.. (p?["commandActions"] as JsonArray ?? []).Select(a => (JsonLines.Str(a, "type") ?? "unknown", JsonLines.Str(a, "command") ?? ""))],
                    JsonLines.Str(p, "cwd"),
                    _paths);
            _signals.Add(new SessionSignal.ApprovalAsked(reference, call, JsonLines.Str(p, "turnId") ?? _turnId));
            return [];
        }

        Write(new JsonObject
        {
            ["id"] = json["id"]!.DeepClone(),
            ["error"] = new JsonObject { ["code"] = -32601, ["message"] = $"mogplexd does not serve {method} here" },
        });
        return [new HarnessEvent(RunEventTypes.Log, $"Refused codex request {method}", Payload: new JsonObject { ["method"] = method })];
    }

    private IReadOnlyList<HarnessEvent> ItemStarted(JsonObject item)
    {
        if (JsonLines.Str(item, "type") == "fileChange" && JsonLines.Str(item, "id") is { } id)
        {
            _fileChanges[id] = [.. (item["changes"] as JsonArray ?? []).Select(c => new FileChange(
                JsonLines.Str(c, "path") ?? "",
                JsonLines.Str(c?["kind"], "type") ?? JsonLines.Str(c, "kind") ?? "update",
                JsonLines.Str(c, "diff")))];
        }

        return StartedEvents(item);
    }

    private static IReadOnlyList<HarnessEvent> StartedEvents(JsonObject item) => JsonLines.Str(item, "type") switch
    {
        "commandExecution" => [new HarnessEvent(RunEventTypes.ToolCall, JsonLines.OneLine(JsonLines.Str(item, "command")), "shell", new JsonObject { ["item"] = JsonLines.Str(item, "id") })],
        "mcpToolCall" => [new HarnessEvent(RunEventTypes.ToolCall, McpName(item), McpName(item), new JsonObject { ["item"] = JsonLines.Str(item, "id") })],
        "webSearch" => [new HarnessEvent(RunEventTypes.ToolCall, JsonLines.OneLine(JsonLines.Str(item, "query")), "web_search", new JsonObject { ["item"] = JsonLines.Str(item, "id") })],
        _ => [],
    };

    private static IReadOnlyList<HarnessEvent> ItemCompleted(JsonObject item)
    {
        var id = JsonLines.Str(item, "id");
        switch (JsonLines.Str(item, "type"))
        {
            case "commandExecution":
                var exit = JsonLines.Long(item, "exitCode");
                return [new HarnessEvent(RunEventTypes.ToolResult, exit is null ? JsonLines.Str(item, "status") ?? "done" : $"exit {exit}", "shell", new JsonObject
                {
                    ["item"] = id,
                    ["exitCode"] = exit,
                    ["output"] = JsonLines.Tail(JsonLines.Str(item, "aggregatedOutput")),
                })];
            case "fileChange":
                var changes = new JsonArray([.. (item["changes"] as JsonArray ?? []).Select(c => (JsonNode?)new JsonObject
                {
                    ["path"] = JsonLines.Str(c, "path"),
                    ["kind"] = JsonLines.Str(c?["kind"], "type") ?? JsonLines.Str(c, "kind"),
                })]);
                var paths = changes.Select(c => JsonLines.Str(c, "path") ?? "?").ToList();
                var summary = paths.Count == 1 ? paths[0] : $"{paths.Count} files changed";
                return
                [
                    new HarnessEvent(RunEventTypes.ToolCall, summary, "edit_file", new JsonObject { ["item"] = id, ["changes"] = changes }),
                    new HarnessEvent(RunEventTypes.ToolResult, summary, "edit_file", new JsonObject { ["item"] = id, ["status"] = JsonLines.Str(item, "status") }),
                ];
            case "mcpToolCall":
                return [new HarnessEvent(RunEventTypes.ToolResult, JsonLines.Str(item, "status") ?? "done", McpName(item), new JsonObject { ["item"] = id, ["raw"] = item.DeepClone() })];
            case "webSearch":
                return [new HarnessEvent(RunEventTypes.ToolResult, "done", "web_search", new JsonObject { ["item"] = id })];
            case "agentMessage":
                return [new HarnessEvent(RunEventTypes.AssistantMessage, JsonLines.Str(item, "text") ?? "")];
            case "reasoning":
                var text = string.Join("\n", (item["summary"] as JsonArray ?? []).Concat(item["content"] as JsonArray ?? []).Select(Text).Where(t => t.Length > 0));
                return text.Length == 0 ? [] : [new HarnessEvent(RunEventTypes.Reasoning, text)];
            case "userMessage" or "plan" or "contextCompaction":
                return [];
            default:
                return [new HarnessEvent(RunEventTypes.Log, $"Unrecognized codex item {JsonLines.Str(item, "type")}", Payload: new JsonObject { ["raw"] = item.DeepClone() })];
        }
    }

    private static string Text(JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonObject o => JsonLines.Str(o, "text") ?? "",
        _ => "",
    };

    /// <summary><c>total</c> is cumulative over the thread: remembered, reported as this turn's delta when the turn completes.</summary>
    private IReadOnlyList<HarnessEvent> TokenUsage(JsonObject? p)
    {
        if (p?["tokenUsage"]?["total"] is JsonObject total)
        {
            _usage = new UsageTotals(
                JsonLines.Long(total, "inputTokens") ?? 0,
                JsonLines.Long(total, "cachedInputTokens") ?? 0,
                JsonLines.Long(total, "outputTokens") ?? 0,
                JsonLines.Long(total, "reasoningOutputTokens") ?? 0);
        }

        return [];
    }

    private List<HarnessEvent> TurnStarted(JsonObject? turn)
    {
        _turnId = JsonLines.Str(turn, "id") ?? _turnId;
        TurnActive = true;
        _signals.Add(new SessionSignal.TurnStarted(_turnId ?? "?"));
        return [];
    }

    private List<HarnessEvent> TurnCompleted(JsonObject? turn)
    {
        TurnEnded = true;
        TurnActive = false;
        var events = new List<HarnessEvent>();
        var delta = _usage - _usageAtTurnStart;
        _usageAtTurnStart = _usage;
        if (delta != UsageTotals.Zero)
        {
            events.Add(Usage(delta));
        }

        var status = JsonLines.Str(turn, "status") ?? "completed";
        string? error = null;
        switch (status)
        {
            case "failed":
                var failed = Failed(JsonLines.Str(turn?["error"], "message") ?? "turn failed");
                error = failed.Message;
                events.Add(failed);
                break;
            case "interrupted":
                // Our interrupt is the user's wish; an interrupt nobody asked for fails the run.
                _turnError = _interruptRequested ? null : "the turn was interrupted";
                break;
            default:
                _turnError = null;
                break;
        }

        _interruptRequested = false;
        foreach (var reference in _pendingAsks.Keys.ToList())
        {
            _pendingAsks.Remove(reference);
            _signals.Add(new SessionSignal.ApprovalWithdrawn(reference));
        }

        _signals.Add(new SessionSignal.TurnCompleted(JsonLines.Str(turn, "id") ?? _turnId ?? "?", status, error, delta == UsageTotals.Zero ? null : new UsageDelta(delta.Input, delta.CachedInput, delta.Output, null)));
        if (_queuedTurns.TryDequeue(out var next))
        {
            WriteTurn(_nextId++, next);
        }

        return events;
    }

    private HarnessEvent Failed(string message)
    {
        var status = HttpStatus(message);
        var error = _context.ModelError("codex", status, message);
        _turnError = error;
        return new HarnessEvent(RunEventTypes.Error, error, Payload: new JsonObject { ["fatal"] = true, ["status"] = status, ["host"] = _context.ModelHost });
    }

    /// <summary>The HTTP status in Codex's words: <c>unexpected status 401 Unauthorized: …</c>, or its fixed text for a 500.</summary>
    private static int? HttpStatus(string message) =>
        StatusPattern().Match(message) is { Success: true } m ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)
        : message.StartsWith(InternalServerErrorText, StringComparison.Ordinal) ? 500
        : null;

    [GeneratedRegex(@"\bunexpected status (\d{3})\b")]
    private static partial Regex StatusPattern();

    private static HarnessEvent Usage(UsageTotals d)
    {
        var delta = new UsageDelta(d.Input, d.CachedInput, d.Output, null);
        return new HarnessEvent(
            RunEventTypes.Usage,
            $"{d.Input} in, {d.Output} out",
            Payload: new JsonObject
            {
                ["input"] = d.Input,
                ["cachedInput"] = d.CachedInput,
                ["output"] = d.Output,
                ["reasoningOutput"] = d.ReasoningOutput,
            },
            Usage: delta);
    }

    private void Write(JsonObject message) => _writes.Add(message.ToJsonString());

    private static string McpName(JsonObject item) => $"{JsonLines.Str(item, "server") ?? "mcp"}.{JsonLines.Str(item, "tool") ?? "tool"}";

    private readonly record struct UsageTotals(long Input, long CachedInput, long Output, long ReasoningOutput)
    {
        public static UsageTotals Zero => default;

        public static UsageTotals operator -(UsageTotals a, UsageTotals b) =>
            new(a.Input - b.Input, a.CachedInput - b.CachedInput, a.Output - b.Output, a.ReasoningOutput - b.ReasoningOutput);
    }
}
