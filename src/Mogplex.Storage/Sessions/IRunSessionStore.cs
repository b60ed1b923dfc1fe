namespace Mogplex.Storage;

/// <summary>What a person sends an interactive run (interactive.md): a follow-up, an interrupt, or finish.</summary>
public static class RunInputKinds
{
    public const string Message = "message";
    public const string Interrupt = "interrupt";
    public const string Finish = "finish";
}

/// <summary>
/// One input for a run, stored until the node that runs the harness takes it (in order, once).
/// Any node stores it; the run's change notification wakes the node that holds the run.
/// </summary>
public sealed record RunInputRecord
{
    public required string Id { get; init; }
    public required string RunId { get; init; }

    /// <summary><see cref="RunInputKinds"/>.</summary>
    public required string Kind { get; init; }

    /// <summary>A message's text (null for interrupt and finish).</summary>
    public string? Text { get; init; }

    /// <summary>A message's mode: <c>queue</c> or <c>steer</c>.</summary>
    public string? Mode { get; init; }

    /// <summary>The client's <c>Idempotency-Key</c>, when it sent one.</summary>
    public string? ClientKey { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? TakenAt { get; init; }
}

public enum AddRunInputOutcome
{
    Added,

    /// <summary>The same key came with the same input before: that input is returned, nothing is added.</summary>
    Replayed,

    /// <summary>The same key came with another input before.</summary>
    KeyConflict,
    NotFound,

    /// <summary>The run was not started with <c>interactive: true</c>.</summary>
    NotInteractive,

    /// <summary>The run already ended.</summary>
    Terminal,
}

/// <summary>
/// What the node that holds an interactive run writes as its session goes (fenced on the lease):
/// turns started, whether it waits for input, the harness's conversation id, and the events that say so.
/// </summary>
public sealed record RunSessionUpdate(string RunId, string Owner, DateTimeOffset At)
{
    public bool? AwaitingInput { get; init; }
    public int TurnsStarted { get; init; }
    public string? HarnessSession { get; init; }
    public string? StartCommit { get; init; }
    public IReadOnlyList<NewRunEvent> Events { get; init; } = [];
}

/// <summary>Interactive runs' sessions: what people send them, and their state between turns.</summary>
public interface IRunSessionStore
{
    /// <summary>
    /// Stores the input and appends its events in one transaction, when the run (of
    /// <paramref name="userId"/>, or anyone's when null) exists, is interactive and has not ended.
    /// An input with a <see cref="RunInputRecord.ClientKey"/> the run saw before is not added again.
    /// </summary>
    Task<(AddRunInputOutcome Outcome, RunInputRecord? Input)> AddInputAsync(RunInputRecord input, string? userId, IReadOnlyList<NewRunEvent> events, CancellationToken cancellationToken);

    /// <summary>The run's inputs nobody took yet, oldest first; they are marked taken (each is taken once).</summary>
    Task<IReadOnlyList<RunInputRecord>> TakeInputsAsync(string runId, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Applies the update and appends its events while <see cref="RunSessionUpdate.Owner"/> holds the active run; false otherwise.</summary>
    Task<bool> UpdateAsync(RunSessionUpdate update, CancellationToken cancellationToken);

    /// <summary>
    /// Keeps an interactive run open across a restart or a lost node: a <c>streaming</c> interactive
    /// run held by <paramref name="owner"/> loses its lease (and stays <c>streaming</c>), so a worker
    /// of any node claims it again and resumes its conversation; the events are appended. False when
    /// the run is not such a run of that owner.
    /// </summary>
    Task<bool> ReleaseAsync(string runId, string owner, DateTimeOffset at, IReadOnlyList<NewRunEvent> events, CancellationToken cancellationToken);
}
