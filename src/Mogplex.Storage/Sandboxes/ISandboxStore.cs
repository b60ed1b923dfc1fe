namespace Mogplex.Storage;

/// <summary>A sandbox as stored. <see cref="NodeId"/> names the node whose disk holds it.</summary>
public sealed record SandboxRecord
{
    public required string Id { get; init; }
    public string? SandboxId { get; init; }
    public required string UserId { get; init; }
    public required string RepoId { get; init; }
    public required string Status { get; init; }
    public required string BaseBranch { get; init; }
    public required string WorkingBranch { get; init; }
    public required string RootDirectory { get; init; }
    public string? PreviewUrl { get; init; }
    public string? NodeId { get; init; }
    public string? Path { get; init; }
    public string? Error { get; init; }
    public string? InstallLog { get; init; }
    public string? DevLog { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset LastActiveAt { get; init; }
}

/// <summary>A lifecycle step of a sandbox.</summary>
public sealed record SandboxLifecycleRecord(
    string Id,
    string SandboxRecordId,
    string EventType,
    string? DecisionCode,
    string? WorkerRunId,
    string? PayloadJson,
    DateTimeOffset CreatedAt);

/// <summary>A sandbox listing, newest activity first.</summary>
public sealed record SandboxQuery(string? UserId, string? RepoId, string? Status, int Limit);

/// <summary>The outcome of <see cref="ISandboxStore.StopAsync"/>.</summary>
public enum StopSandboxOutcome
{
    NotFound,
    InUse,
    AlreadyStopped,
    Stopped,
}

/// <summary>Sandbox records and their lifecycle log.</summary>
public interface ISandboxStore
{
    /// <summary>
    /// Returns the active sandbox for the same user, repo, working branch and root, or inserts
    /// <paramref name="candidate"/> (with its first lifecycle event). The database decides the race.
    /// </summary>
    Task<(SandboxRecord Sandbox, bool Reused)> CreateOrReuseAsync(SandboxRecord candidate, SandboxLifecycleRecord created, CancellationToken cancellationToken);

    Task<SandboxRecord?> GetAsync(string id, string? userId, CancellationToken cancellationToken);

    Task<IReadOnlyList<SandboxRecord>> ListAsync(SandboxQuery query, CancellationToken cancellationToken);

    Task<IReadOnlyList<SandboxLifecycleRecord>> ListLifecycleAsync(string id, CancellationToken cancellationToken);

    /// <summary>Updates status and logs of an active sandbox and appends a lifecycle event; null when it is no longer active.</summary>
    Task<SandboxRecord?> UpdateAsync(SandboxUpdate update, CancellationToken cancellationToken);

    /// <summary>Stops a sandbox unless an active run uses it; idempotent.</summary>
    Task<(StopSandboxOutcome Outcome, SandboxRecord? Sandbox)> StopAsync(string id, string? userId, SandboxLifecycleRecord stopped, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes the records (and lifecycle logs) of sandboxes that are no longer active (stopped or
    /// error), were last active before <paramref name="inactiveBefore"/> and that no active run
    /// names; returns them. Their folders are the caller's to remove. An active sandbox is never
    /// deleted: the idle timeout stops it first.
    /// </summary>
    Task<IReadOnlyList<SandboxRecord>> PruneAsync(DateTimeOffset inactiveBefore, CancellationToken cancellationToken);
}

/// <summary>A change to an active sandbox. Null fields leave the column as it is.</summary>
public sealed record SandboxUpdate
{
    public required string Id { get; init; }
    public required string Status { get; init; }
    public required DateTimeOffset At { get; init; }
    public string? SandboxId { get; init; }
    public string? Path { get; init; }
    public string? NodeId { get; init; }
    public string? Error { get; init; }
    public string? InstallLog { get; init; }
    public SandboxLifecycleRecord? Lifecycle { get; init; }
}
