using System.Text.Json.Serialization;

namespace Mogplex.Contracts.Sandboxes;

/// <summary>A sandbox record, snake_case on the wire.</summary>
public record Sandbox
{
    [JsonPropertyName("id")] public required string Id { get; init; }
    [JsonPropertyName("sandbox_id")] public string? SandboxId { get; init; }
    [JsonPropertyName("repo_id")] public required string RepoId { get; init; }
    [JsonPropertyName("status")] public required string Status { get; init; }
    [JsonPropertyName("base_branch")] public required string BaseBranch { get; init; }
    [JsonPropertyName("working_branch")] public required string WorkingBranch { get; init; }
    [JsonPropertyName("root_directory")] public required string RootDirectory { get; init; }
    [JsonPropertyName("preview_url")] public string? PreviewUrl { get; init; }
    [JsonPropertyName("created_at")] public required DateTimeOffset CreatedAt { get; init; }
    [JsonPropertyName("last_active_at")] public required DateTimeOffset LastActiveAt { get; init; }
    [JsonPropertyName("error")] public string? Error { get; init; }
}

/// <summary>A sandbox with its logs, as <c>GET /sandboxes/{id}/logs</c> shows it.</summary>
public sealed record SandboxWithLogs : Sandbox
{
    [JsonPropertyName("install_log")] public string? InstallLog { get; init; }
    [JsonPropertyName("dev_log")] public string? DevLog { get; init; }
}

/// <summary>One lifecycle step of a sandbox.</summary>
public sealed record SandboxLifecycleEvent(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("event_type")] string EventType,
    [property: JsonPropertyName("decision_code")] string? DecisionCode,
    [property: JsonPropertyName("worker_run_id")] string? WorkerRunId,
    [property: JsonPropertyName("payload")] System.Text.Json.JsonElement? Payload,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt);

/// <summary>Sandbox statuses as spelled on the wire.</summary>
public static class SandboxStatuses
{
    public const string Creating = "creating";
    public const string Installing = "installing";
    public const string Running = "running";
    public const string Pausing = "pausing";
    public const string Paused = "paused";
    public const string Stopped = "stopped";
    public const string Error = "error";

    /// <summary>Every status.</summary>
    public static readonly IReadOnlyList<string> All = [Creating, Installing, Running, Pausing, Paused, Stopped, Error];

    /// <summary>True while the sandbox may still be used or stopped.</summary>
    public static bool IsActive(string status) => status is Creating or Installing or Running or Pausing or Paused;
}
