namespace Mogplex.Storage;

/// <summary>
/// Runs and their state machine. A terminal status (success, failed, cancelled) never changes
/// again: providers enforce it in the database as well as in their statements.
/// </summary>
public interface IRunStore
{
    /// <summary>
    /// Creates a run under an idempotency key, atomically: an existing key with the same request
    /// hash replays its run, with another hash conflicts; otherwise the run-start limits are
    /// checked and counted, and the run, the key and the initial events are written together.
    /// Concurrent calls with one key yield exactly one run.
    /// </summary>
    Task<CreateRunResult> CreateRunAsync(CreateRunCommand command, CancellationToken cancellationToken);

    /// <summary>A run by id, only if owned by <paramref name="userId"/> (null: any owner).</summary>
    Task<RunRecord?> GetRunAsync(string runId, string? userId, CancellationToken cancellationToken);

    /// <summary>Runs newest first (created_at, then id, descending), after the cursor.</summary>
    Task<IReadOnlyList<RunRecord>> ListRunsAsync(RunQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// Moves a run from one of <see cref="RunTransition.From"/> to <see cref="RunTransition.To"/>
    /// and appends its events in the same transaction. Returns the updated run, or null when the
    /// run was not in an expected state (or not held by the expected lease owner): the caller lost a race.
    /// </summary>
    Task<RunRecord?> TransitionAsync(RunTransition transition, CancellationToken cancellationToken);

    /// <summary>
    /// Marks cancellation as requested on an active run and appends its event, once. Returns the run
    /// as it is after the call and whether this call recorded the request.
    /// </summary>
    Task<(RunRecord? Run, bool Recorded)> RequestCancelAsync(string runId, string? userId, NewRunEvent requestedEvent, DateTimeOffset now, CancellationToken cancellationToken);
}

/// <summary>The input of <see cref="IRunStore.CreateRunAsync"/>.</summary>
public sealed record CreateRunCommand(
    RunRecord Run,
    string IdempotencyKey,
    string RequestHash,
    string RateLimitBucket,
    IReadOnlyList<RateWindow> StartLimits,
    IReadOnlyList<NewRunEvent> InitialEvents);

/// <summary>The outcome of <see cref="IRunStore.CreateRunAsync"/>.</summary>
public abstract record CreateRunResult
{
    public sealed record Created(RunRecord Run) : CreateRunResult;
    public sealed record Replayed(RunRecord Run) : CreateRunResult;
    public sealed record KeyConflict : CreateRunResult;
    public sealed record RateLimited(RateLimitDecision Decision) : CreateRunResult;
}

/// <summary>A page of runs. The cursor is the (created_at, id) of the last run of the previous page.</summary>
public sealed record RunQuery(string? UserId, string? RepoId, string? Status, int Limit, RunCursor? After)
{
    /// <summary>[beyond] only active runs with a pending approval.</summary>
    public bool AwaitingApproval { get; init; }

    /// <summary>[beyond] only active interactive runs between turns without a pending approval (awaiting <c>input</c>).</summary>
    public bool AwaitingInput { get; init; }
}

/// <summary>A keyset position in the newest-first run order.</summary>
public sealed record RunCursor(DateTimeOffset CreatedAt, string RunId);

/// <summary>A fenced state change. Null fields leave the column as it is.</summary>
public sealed record RunTransition
{
    public required string RunId { get; init; }
    public required IReadOnlyList<string> From { get; init; }
    public required string To { get; init; }
    public required DateTimeOffset At { get; init; }
    public string? ExpectedLeaseOwner { get; init; }

    /// <summary>Only a run no worker has claimed (no lease) matches: used to cancel a queued run in place.</summary>
    public bool OnlyIfUnclaimed { get; init; }
    public string? Error { get; init; }
    public string? Commit { get; init; }
    public string? RuntimeRunId { get; init; }
    public string? SandboxRecordId { get; init; }
    public string? SandboxId { get; init; }
    public IReadOnlyList<NewRunEvent> Events { get; init; } = [];
}
