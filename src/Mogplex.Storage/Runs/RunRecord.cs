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

    /// <summary>[beyond] the run stays open between turns until finish, cancel or the idle limit (interactive.md).</summary>
    public bool Interactive { get; init; }

    /// <summary>[beyond] turns the harness started so far.</summary>
    public int Turns { get; init; }

    /// <summary>[beyond] an interactive run between turns: it waits for a person's follow-up.</summary>
    public bool AwaitingInput { get; init; }

    /// <summary>[beyond] the harness's conversation (Codex thread, Claude Code session) to resume in a new process.</summary>
    public string? HarnessSession { get; init; }

    /// <summary>[beyond] the commit an interactive run's sandbox started from (its delivery is against it, also after a restart).</summary>
    public string? StartCommit { get; init; }
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
