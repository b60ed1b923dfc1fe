using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mogplex.Cli.Tests.Infrastructure;

/// <summary>Wire shapes of api.md, as compact JSON text the stubs answer with.</summary>
public static class Api
{
    public static string Error(string code, string message) =>
        new JsonObject { ["ok"] = false, ["error"] = new JsonObject { ["code"] = code, ["message"] = message } }.ToJsonString();

    /// <summary>A run detail (<c>MogplexApiRunDetail</c>) as api.md spells it.</summary>
    public static JsonObject Run(
        string runId = "run_1",
        string status = "pending",
        string repoId = "repo_1",
        string harness = "codex",
        string baseBranch = "main",
        string? working = null,
        bool createBranch = false,
        string? sandboxId = null,
        string? error = null) =>
        new()
        {
            ["runId"] = runId,
            ["aiCallId"] = null,
            ["sandboxRecordId"] = null,
            ["sandboxId"] = sandboxId,
            ["repoId"] = repoId,
            ["harness"] = harness,
            ["status"] = status,
            ["branch"] = new JsonObject { ["base"] = baseBranch, ["working"] = working ?? baseBranch, ["createBranch"] = createBranch },
            ["rootDirectory"] = null,
            ["eventsUrl"] = $"/api/v1/mogplex/runs/{runId}/events",
            ["cancelUrl"] = $"/api/v1/mogplex/runs/{runId}/cancel",
            ["createdAt"] = "2025-01-01T10:00:00.000Z",
            ["updatedAt"] = "2025-01-01T10:00:05.000Z",
            ["error"] = error,
            ["runtime"] = new JsonObject { ["provider"] = "mogplexd", ["runId"] = "exec_1" },
        };

    /// <summary>A run event.</summary>
    public static JsonObject Event(string id, string type = "log", string? message = null, string? toolName = null, string createdAt = "2025-01-01T10:00:01.000Z") =>
        new()
        {
            ["id"] = id,
            ["type"] = type,
            ["toolName"] = toolName,
            ["message"] = message ?? $"message of {id}",
            ["payload"] = null,
            ["createdAt"] = createdAt,
        };

    /// <summary><c>{"run": ..., "events": [...]}</c> (the events page).</summary>
    public static string EventsPage(JsonObject run, params JsonObject[] events) =>
        new JsonObject { ["run"] = run, ["events"] = new JsonArray([.. events.Select(e => e.DeepClone())]) }.ToJsonString();

    /// <summary>One SSE frame of an event: <c>id</c>, <c>event</c>, <c>data</c>.</summary>
    public static string SseEvent(JsonObject e) => $"id: {e["id"]}\nevent: {e["type"]}\ndata: {e.ToJsonString()}\n\n";

    /// <summary>The final SSE frame: <c>event: end</c> with <c>{"runId","status"}</c>.</summary>
    public static string SseEnd(string runId, string status) => $"event: end\ndata: {{\"runId\":\"{runId}\",\"status\":\"{status}\"}}\n\n";

    public static string Json(this JsonNode node) => node.ToJsonString();

    /// <summary>Parses one output line (fails the test when it is not a JSON object).</summary>
    public static JsonElement Parse(string line)
    {
        using var document = JsonDocument.Parse(line);
        Assert.Equal(JsonValueKind.Object, document.RootElement.ValueKind);
        return document.RootElement.Clone();
    }
}
