using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace Mogplex.Testing.ModelStandIn;

/// <summary>The OpenAI Responses API (<c>POST /v1/responses</c>, streaming) as Codex calls it.</summary>
internal static partial class OpenAiResponses
{
    /// <summary>Usage reported by every call; Codex sums the calls of a turn in <c>turn.completed</c>.</summary>
    public const int InputTokens = 100;
    public const int CachedInputTokens = 40;
    public const int OutputTokens = 20;
    public const int ReasoningTokens = 5;

    public static async Task HandleAsync(HttpContext context, string body)
    {
        using var doc = ModelStandInServer.TryParse(body);
        if (doc is null)
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest);
            return;
        }
        var root = doc.RootElement;
        var (prompts, finishedCalls, allCalls, runningSession) = ReadInput(root);
        var script = StandInScript.Parse(prompts);

        if (script.FailStatus is { } status)
        {
            await WriteErrorAsync(context, status);
            return;
        }

        // A command still running after exec_command's yield time is polled (write_stdin) until it ends,
        // so a long command keeps Codex busy; only finished commands count as completed steps.
        var step = runningSession is null ? script.StepAfter(finishedCalls) : null;
        var responseId = $"resp_standin_{allCalls}";
        var item = runningSession is { } sessionId
            ? PollItem(allCalls, sessionId)
            : step is null ? MessageItem(allCalls, script.FinalText) : ToolCallItem(allCalls, step);

        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        var ct = context.RequestAborted;

        await SendAsync(response, "response.created", new JsonObject
        {
            ["response"] = new JsonObject { ["id"] = responseId, ["object"] = "response", ["status"] = "in_progress", ["output"] = new JsonArray() },
        }, ct);
        if (script.CutStream)
            return;
        if (script.Hang)
        {
            await ModelStandInServer.HangAsync(response, ct);
            return;
        }
        await SendAsync(response, "response.output_item.added", new JsonObject { ["output_index"] = 0, ["item"] = Started(item) }, ct);
        if (item["type"]!.GetValue<string>() == "message")
        {
            await SendAsync(response, "response.content_part.added", new JsonObject
            {
                ["item_id"] = item["id"]!.GetValue<string>(),
                ["output_index"] = 0,
                ["content_index"] = 0,
                ["part"] = new JsonObject { ["type"] = "output_text", ["text"] = "", ["annotations"] = new JsonArray() },
            }, ct);
            await SendAsync(response, "response.output_text.delta", new JsonObject
            {
                ["item_id"] = item["id"]!.GetValue<string>(),
                ["output_index"] = 0,
                ["content_index"] = 0,
                ["delta"] = script.FinalText,
            }, ct);
            await SendAsync(response, "response.output_text.done", new JsonObject
            {
                ["item_id"] = item["id"]!.GetValue<string>(),
                ["output_index"] = 0,
                ["content_index"] = 0,
                ["text"] = script.FinalText,
            }, ct);
        }
        await SendAsync(response, "response.output_item.done", new JsonObject { ["output_index"] = 0, ["item"] = item.DeepClone() }, ct);
        await SendAsync(response, "response.completed", new JsonObject
        {
            ["response"] = new JsonObject
            {
                ["id"] = responseId,
                ["object"] = "response",
                ["status"] = "completed",
                ["output"] = new JsonArray(item.DeepClone()),
                ["usage"] = new JsonObject
                {
                    ["input_tokens"] = InputTokens,
                    ["input_tokens_details"] = new JsonObject { ["cached_tokens"] = CachedInputTokens },
                    ["output_tokens"] = OutputTokens,
                    ["output_tokens_details"] = new JsonObject { ["reasoning_tokens"] = ReasoningTokens },
                    ["total_tokens"] = InputTokens + OutputTokens,
                },
            },
        }, ct);
    }

    /// <summary>
    /// The prompt texts; tool calls whose command has finished; all tool outputs; and the session id
    /// when the last tool output says its command is still running.
    /// </summary>
    private static (List<string> Prompts, int FinishedCalls, int AllCalls, string? RunningSession) ReadInput(JsonElement root)
    {
        var prompts = new List<string>();
        var finished = 0;
        var all = 0;
        string? runningSession = null;
        if (!root.TryGetProperty("input", out var input))
            return (prompts, finished, all, runningSession);
        if (input.ValueKind == JsonValueKind.String)
        {
            prompts.Add(input.GetString()!);
            return (prompts, finished, all, runningSession);
        }
        if (input.ValueKind != JsonValueKind.Array)
            return (prompts, finished, all, runningSession);
        foreach (var item in input.EnumerateArray())
        {
            var type = item.TryGetProperty("type", out var t) ? t.GetString() : "message";
            if (type is "function_call_output" or "custom_tool_call_output" or "local_shell_call_output")
            {
                all++;
                var output = item.TryGetProperty("output", out var o) ? o.ToString() : "";
                var running = RunningSessionRegex().Match(output);
                runningSession = running.Success ? running.Groups[1].Value : null;
                if (!running.Success)
                    finished++;
                continue;
            }
            if (type != "message" || !item.TryGetProperty("role", out var role) || role.GetString() != "user")
                continue;
            if (!item.TryGetProperty("content", out var content))
                continue;
            if (content.ValueKind == JsonValueKind.String)
            {
                prompts.Add(content.GetString()!);
                continue;
            }
            if (content.ValueKind != JsonValueKind.Array)
                continue;
            foreach (var part in content.EnumerateArray())
            {
                if (part.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String)
                    prompts.Add(text.GetString()!);
            }
        }
        return (prompts, finished, all, runningSession);
    }

    private static JsonObject PollItem(int index, string sessionId) => new()
    {
        ["type"] = "function_call",
        ["id"] = $"fc_standin_{index}",
        ["call_id"] = $"call_standin_{index}",
        ["name"] = "write_stdin",
        ["status"] = "completed",
        ["arguments"] = new JsonObject { ["session_id"] = int.Parse(sessionId, System.Globalization.CultureInfo.InvariantCulture), ["chars"] = "", ["yield_time_ms"] = 30000 }.ToJsonString(),
    };

    private static JsonObject MessageItem(int index, string text) => new()
    {
        ["type"] = "message",
        ["id"] = $"msg_standin_{index}",
        ["role"] = "assistant",
        ["status"] = "completed",
        ["content"] = new JsonArray(new JsonObject { ["type"] = "output_text", ["text"] = text, ["annotations"] = new JsonArray() }),
    };

    private static JsonObject ToolCallItem(int index, StandInStep step)
    {
        if (step.Kind == StandInStepKind.WriteFile)
        {
            var lines = (step.Content ?? "").Split('\n').Select(l => "+" + l);
            return new JsonObject
            {
                ["type"] = "custom_tool_call",
                ["id"] = $"ctc_standin_{index}",
                ["call_id"] = $"call_standin_{index}",
                ["name"] = "apply_patch",
                ["status"] = "completed",
                ["input"] = $"*** Begin Patch\n*** Add File: {step.Path}\n{string.Join('\n', lines)}\n*** End Patch\n",
            };
        }
        return new JsonObject
        {
            ["type"] = "function_call",
            ["id"] = $"fc_standin_{index}",
            ["call_id"] = $"call_standin_{index}",
            ["name"] = "exec_command",
            ["status"] = "completed",
            ["arguments"] = new JsonObject { ["cmd"] = step.Command, ["yield_time_ms"] = 30000 }.ToJsonString(),
        };
    }

    /// <summary>The item as first announced: a message without its text, a call without its arguments.</summary>
    private static JsonObject Started(JsonObject item)
    {
        var started = (JsonObject)item.DeepClone();
        started["status"] = "in_progress";
        if (started.ContainsKey("content"))
            started["content"] = new JsonArray();
        if (started.ContainsKey("arguments"))
            started["arguments"] = "";
        if (started.ContainsKey("input"))
            started["input"] = "";
        return started;
    }

    private static async Task SendAsync(HttpResponse response, string type, JsonObject data, CancellationToken ct)
    {
        var payload = new JsonObject { ["type"] = type };
        foreach (var (key, value) in data)
            payload[key] = value?.DeepClone();
        await response.WriteAsync($"event: {type}\ndata: {payload.ToJsonString()}\n\n", ct);
        await response.Body.FlushAsync(ct);
    }

    private static async Task WriteErrorAsync(HttpContext context, int status)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        var (type, code, message) = status switch
        {
            // Echoes the key it was given, as some providers do: a canary for the server's sanitizer.
            StatusCodes.Status401Unauthorized => ("invalid_request_error", "invalid_api_key", $"Incorrect API key provided: {PresentedKey(context)} (model stand-in)."),
            StatusCodes.Status400BadRequest => ("invalid_request_error", "invalid_json", "The model stand-in could not read the request body as JSON."),
            _ => ("server_error", "server_error", "The model stand-in was told to fail with HTTP 500."),
        };
        var error = new JsonObject
        {
            ["error"] = new JsonObject { ["message"] = message, ["type"] = type, ["param"] = null, ["code"] = code },
        };
        await context.Response.WriteAsync(error.ToJsonString(), context.RequestAborted);
    }

    private static string PresentedKey(HttpContext context) =>
        context.Request.Headers.Authorization.ToString() is var auth && auth.StartsWith("Bearer ", StringComparison.Ordinal) ? auth["Bearer ".Length..] : "(none)";

    [GeneratedRegex(@"Process running with session ID (\d+)")]
    private static partial Regex RunningSessionRegex();
}
