namespace Mogplex.Storage;

/// <summary>
/// The columns of a <c>runs</c> row that every provider reads the same way, for the providers'
/// row classes (Dapper fills them by name). What differs per provider (how a time, a flag and a
/// cost are stored) stays in the derived row, which passes the converted values to <see cref="ToRecord"/>.
/// </summary>
public abstract class RunRowBase
{
    /// <summary>Every column of <c>runs</c>, aliased to the row's property names.</summary>
    public const string Columns =
        "id AS Id, user_id AS UserId, repo_id AS RepoId, ai_call_id AS AiCallId, harness AS Harness, status AS Status, " +
        "base_branch AS BaseBranch, working_branch AS WorkingBranch, create_branch AS CreateBranch, root_directory AS RootDirectory, " +
        "prompt AS Prompt, conversation_id AS ConversationId, workspace_session_id AS WorkspaceSessionId, mode AS Mode, " +
        "sandbox_record_id AS SandboxRecordId, sandbox_id AS SandboxId, error AS Error, runtime_run_id AS RuntimeRunId, " +
        "input_tokens AS InputTokens, cached_input_tokens AS CachedInputTokens, output_tokens AS OutputTokens, cost_usd AS CostUsd, " +
        "commit_sha AS CommitSha, created_at AS CreatedAt, updated_at AS UpdatedAt, started_at AS StartedAt, finished_at AS FinishedAt, " +
        "cancel_requested_at AS CancelRequestedAt, lease_owner AS LeaseOwner, lease_expires_at AS LeaseExpiresAt";

    public string Id { get; set; } = "";
    public string UserId { get; set; } = "";
    public string RepoId { get; set; } = "";
    public string AiCallId { get; set; } = "";
    public string Harness { get; set; } = "";
    public string Status { get; set; } = "";
    public string BaseBranch { get; set; } = "";
    public string WorkingBranch { get; set; } = "";
    public string RootDirectory { get; set; } = "";
    public string Prompt { get; set; } = "";
    public string? ConversationId { get; set; }
    public string? WorkspaceSessionId { get; set; }
    public string? Mode { get; set; }
    public string? SandboxRecordId { get; set; }
    public string? SandboxId { get; set; }
    public string? Error { get; set; }
    public string? RuntimeRunId { get; set; }
    public long? InputTokens { get; set; }
    public long? CachedInputTokens { get; set; }
    public long? OutputTokens { get; set; }
    public string? CommitSha { get; set; }
    public string? LeaseOwner { get; set; }

    /// <summary>The record, from the shared columns and the provider's converted ones.</summary>
    protected RunRecord ToRecord(
        bool createBranch,
        decimal? costUsd,
        DateTimeOffset createdAt,
        DateTimeOffset updatedAt,
        DateTimeOffset? startedAt,
        DateTimeOffset? finishedAt,
        DateTimeOffset? cancelRequestedAt,
        DateTimeOffset? leaseExpiresAt) => new()
        {
            Id = Id,
            UserId = UserId,
            RepoId = RepoId,
            AiCallId = AiCallId,
            Harness = Harness,
            Status = Status,
            BaseBranch = BaseBranch,
            WorkingBranch = WorkingBranch,
            CreateBranch = createBranch,
            RootDirectory = RootDirectory,
            Prompt = Prompt,
            ConversationId = ConversationId,
            WorkspaceSessionId = WorkspaceSessionId,
            Mode = Mode,
            SandboxRecordId = SandboxRecordId,
            SandboxId = SandboxId,
            Error = Error,
            RuntimeRunId = RuntimeRunId,
            InputTokens = InputTokens,
            CachedInputTokens = CachedInputTokens,
            OutputTokens = OutputTokens,
            CostUsd = costUsd,
            Commit = CommitSha,
            CreatedAt = createdAt,
            UpdatedAt = updatedAt,
            StartedAt = startedAt,
            FinishedAt = finishedAt,
            CancelRequestedAt = cancelRequestedAt,
            LeaseOwner = LeaseOwner,
            LeaseExpiresAt = leaseExpiresAt,
        };
}
