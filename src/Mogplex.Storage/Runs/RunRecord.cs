namespace Mogplex.Storage;

/// <summary>A run as stored.</summary>
public sealed record RunRecord
{
    public required string Id { get; init; }
    public required string UserId { get; init; }
    public required string RepoId { get; init; }
    public required string AiCallId { get; init; }
    public required string Harness { get; init; }
    public required string Status { get; init; }
    public required string BaseBranch { get; init; }
    public required string WorkingBranch { get; init; }
    public required bool CreateBranch { get; init; }
    public required string RootDirectory { get; init; }
    public required string Prompt { get; init; }
    public string? ConversationId { get; init; }
    public string? WorkspaceSessionId { get; init; }
    public string? Mode { get; init; }

    /// <summary>[beyond] <c>auto</c> or <c>approval</c> (interactive.md).</summary>
    public string PermissionMode { get; init; } = "auto";

    /// <summary>[beyond] the run's permission rules as given: <c>{"allow":[…],"ask":[…],"deny":[…]}</c>, or null.</summary>
    public string? PermissionsJson { get; init; }

    /// <summary>[beyond] the model the run asked for (null: the server's).</summary>
    public string? Model { get; init; }
    public string? SandboxRecordId { get; init; }
    public string? SandboxId { get; init; }
    public string? Error { get; init; }
    public string? RuntimeRunId { get; init; }
    public long? InputTokens { get; init; }
    public long? CachedInputTokens { get; init; }
    public long? OutputTokens { get; init; }
    public decimal? CostUsd { get; init; }
    public string? Commit { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public DateTimeOffset? CancelRequestedAt { get; init; }
    public string? LeaseOwner { get; init; }
    public DateTimeOffset? LeaseExpiresAt { get; init; }
}
