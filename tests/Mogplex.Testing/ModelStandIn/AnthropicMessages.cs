using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace Mogplex.Testing.ModelStandIn;

/// <summary>The Anthropic Messages API (<c>POST /v1/messages</c>) as Claude Code calls it: streaming, and plain JSON for its retry.</summary>
internal static partial class AnthropicMessages
{
    /// <summary>Usage reported by every call.</summary>
    public const int InputTokens = 100;
    public const int CacheReadInputTokens = 40;
    public const int OutputTokens = 20;

    public static async Task HandleAsync(HttpContext context, string body)
    {
        using var doc = ModelStandInServer.TryParse(body);
        if (doc is null)
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest);
            return;
        }
        var root = doc.RootElement;
        var (prompts, toolResults, workingDirectory) = ReadRequest(root);
        var script = StandInScript.Parse(prompts);

        if (script.FailStatus is { } status)
        {
            await WriteErrorAsync(context, status);
            return;
        }

        var model = root.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : "claude-stand-in";
        var stream = root.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
        var step = script.StepAfter(toolResults);
        var messageId = $"msg_standin_{toolResults}";
        var block = step is null
            ? new JsonObject { ["type"] = "text", ["text"] = script.FinalText }
            : ToolUseBlock(toolResults, step, workingDirectory);
        var stopReason = step is null ? "end_turn" : "tool_use";

        if (script.Hang)
        {
            if (stream)
            {
                context.Response.ContentType = "text/event-stream";
                await SendAsync(context.Response, "message_start", new JsonObject { ["message"] = Message(messageId, model, [], null, 1) }, context.RequestAborted);
            }

            await ModelStandInServer.HangAsync(context.Response, context.RequestAborted);
            return;
        }

        if (!stream)
        {
            var message = Message(messageId, model, new JsonArray(block), stopReason, OutputTokens);
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(message.ToJsonString(), context.RequestAborted);
            return;
        }

        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        var ct = context.RequestAborted;

        await SendAsync(response, "message_start", new JsonObject { ["message"] = Message(messageId, model, [], null, 1) }, ct);
        // An ended stream without message_stop makes Claude Code retry the call without streaming.
        if (script.CutStream)
            return;
        if (step is null)
        {
            await SendAsync(response, "content_block_start", new JsonObject
            {
                ["index"] = 0,
                ["content_block"] = new JsonObject { ["type"] = "text", ["text"] = "" },
            }, ct);
            await SendAsync(response, "content_block_delta", new JsonObject
            {
                ["index"] = 0,
                ["delta"] = new JsonObject { ["type"] = "text_delta", ["text"] = script.FinalText },
            }, ct);
        }
        else
        {
            await SendAsync(response, "content_block_start", new JsonObject
            {
                ["index"] = 0,
                ["content_block"] = new JsonObject
                {
                    ["type"] = "tool_use",
                    ["id"] = block["id"]!.GetValue<string>(),
                    ["name"] = block["name"]!.GetValue<string>(),
                    ["input"] = new JsonObject(),
                },
            }, ct);
            // Claude Code reads the tool input only from input_json_delta; send it in two pieces.
            var json = block["input"]!.ToJsonString();
            var half = json.Length / 2;
            foreach (var piece in new[] { json[..half], json[half..] })
            {
                await SendAsync(response, "content_block_delta", new JsonObject
                {
                    ["index"] = 0,
                    ["delta"] = new JsonObject { ["type"] = "input_json_delta", ["partial_json"] = piece },
                }, ct);
            }
        }
        await SendAsync(response, "content_block_stop", new JsonObject { ["index"] = 0 }, ct);
        await SendAsync(response, "message_delta", new JsonObject
        {
            ["delta"] = new JsonObject { ["stop_reason"] = stopReason, ["stop_sequence"] = null },
            ["usage"] = new JsonObject { ["output_tokens"] = OutputTokens },
        }, ct);
        await SendAsync(response, "message_stop", [], ct);
    }

    private static (List<string> Prompts, int ToolResults, string? WorkingDirectory) ReadRequest(JsonElement root)
    {
        var prompts = new List<string>();
        var toolResults = 0;
        string? workingDirectory = null;

        void LookForWorkingDirectory(string text)
        {
            if (workingDirectory is null && WorkingDirectoryRegex().Match(text) is { Success: true } match)
                workingDirectory = match.Groups[1].Value.Trim();
        }

        if (root.TryGetProperty("system", out var system))
        {
            if (system.ValueKind == JsonValueKind.String)
                LookForWorkingDirectory(system.GetString()!);
            else if (system.ValueKind == JsonValueKind.Array)
            {
                foreach (var part in system.EnumerateArray())
                {
                    if (part.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String)
                        LookForWorkingDirectory(text.GetString()!);
                }
            }
        }

        if (root.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array)
        {
            foreach (var message in messages.EnumerateArray())
            {
                if (!message.TryGetProperty("role", out var role) || role.GetString() != "user" || !message.TryGetProperty("content", out var content))
                    continue;
                if (content.ValueKind == JsonValueKind.String)
                {
                    prompts.Add(content.GetString()!);
                    LookForWorkingDirectory(content.GetString()!);
                    continue;
                }
                if (content.ValueKind != JsonValueKind.Array)
                    continue;
                foreach (var part in content.EnumerateArray())
                {
                    var type = part.TryGetProperty("type", out var t) ? t.GetString() : null;
                    if (type == "tool_result")
                        toolResults++;
                    else if (type == "text" && part.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String)
                    {
                        prompts.Add(text.GetString()!);
                        LookForWorkingDirectory(text.GetString()!);
                    }
                }
            }
        }
        return (prompts, toolResults, workingDirectory);
    }

    private static JsonObject ToolUseBlock(int index, StandInStep step, string? workingDirectory)
    {
        JsonObject input;
        string name;
        if (step.Kind == StandInStepKind.WriteFile)
        {
            name = "Write";
            var path = step.Path ?? "file.txt";
            if (!path.StartsWith('/') && workingDirectory is not null)
                path = workingDirectory.TrimEnd('/') + "/" + path;
            input = new JsonObject { ["file_path"] = path, ["content"] = step.Content ?? "" };
        }
        else
        {
            name = "Bash";
            input = new JsonObject { ["command"] = step.Command, ["description"] = "Run a command for the model stand-in" };
            if (step.LongRunning)
                input["timeout"] = 600000; // the Bash tool's maximum (the default is 2 minutes)
        }
        return new JsonObject
        {
            ["type"] = "tool_use",
            ["id"] = $"toolu_standin_{index}",
            ["name"] = name,
            ["input"] = input,
        };
    }

    private static JsonObject Message(string id, string model, JsonArray content, string? stopReason, int outputTokens) => new()
    {
        ["id"] = id,
        ["type"] = "message",
        ["role"] = "assistant",
        ["model"] = model,
        ["content"] = content,
        ["stop_reason"] = stopReason,
        ["stop_sequence"] = null,
        ["usage"] = new JsonObject
        {
            ["input_tokens"] = InputTokens,
            ["cache_creation_input_tokens"] = 0,
            ["cache_read_input_tokens"] = CacheReadInputTokens,
            ["output_tokens"] = outputTokens,
        },
    };

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
        var (type, message) = status switch
        {
            // Echoes the key it was given, as some providers do: a canary for the server's sanitizer.
            StatusCodes.Status401Unauthorized => ("authentication_error", $"invalid x-api-key: {PresentedKey(context)} (model stand-in)"),
            StatusCodes.Status400BadRequest => ("invalid_request_error", "The model stand-in could not read the request body as JSON."),
            _ => ("api_error", "The model stand-in was told to fail with HTTP 500."),
        };
        var error = new JsonObject
        {
            ["type"] = "error",
            ["error"] = new JsonObject { ["type"] = type, ["message"] = message },
        };
        await context.Response.WriteAsync(error.ToJsonString(), context.RequestAborted);
    }

    private static string PresentedKey(HttpContext context)
    {
        var key = context.Request.Headers["x-api-key"].ToString();
        var auth = context.Request.Headers.Authorization.ToString();
        return key.Length > 0 ? key : auth.StartsWith("Bearer ", StringComparison.Ordinal) ? auth["Bearer ".Length..] : "(none)";
    }

    [GeneratedRegex(@"Primary working directory:\s*(\S[^\r\n]*)")]
    private static partial Regex WorkingDirectoryRegex();
}
