namespace Mogplex.Storage;

/// <summary>An event to append. It must already be sanitized: the store writes it as given.</summary>
public sealed record NewRunEvent(string Type, string? ToolName, string? Message, string? PayloadJson);

/// <summary>A stored event. <see cref="Seq"/> is strictly increasing per run, with no ties.</summary>
public sealed record RunEventRecord(
    string Id,
    string RunId,
    long Seq,
    string Type,
    string? ToolName,
    string? Message,
    string? PayloadJson,
    DateTimeOffset CreatedAt);

/// <summary>The append-only event log of runs.</summary>
public interface IRunEventLog
{
    /// <summary>Appends a batch in one transaction, in order; readers see all of it or none.</summary>
    Task<IReadOnlyList<RunEventRecord>> AppendAsync(string runId, IReadOnlyList<NewRunEvent> events, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Events of a run with seq greater than <paramref name="afterSeq"/>, oldest first.</summary>
    Task<IReadOnlyList<RunEventRecord>> ListAsync(string runId, long afterSeq, int limit, CancellationToken cancellationToken);

    /// <summary>The seq of an event of this run, or null when the id is not one of its events.</summary>
    Task<long?> FindSeqAsync(string runId, string eventId, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes all events of up to <paramref name="maxRuns"/> runs that finished (success, failed or
    /// cancelled) before <paramref name="finishedBefore"/> and still have events, oldest first, in
    /// one transaction; returns those runs. The runs themselves stay. An active run's events are
    /// never deleted (the database refuses it as well). Call again until it returns nothing.
    /// </summary>
    Task<IReadOnlyList<PrunedRun>> PruneAsync(DateTimeOffset finishedBefore, int maxRuns, CancellationToken cancellationToken);
}

/// <summary>A run whose events <see cref="IRunEventLog.PruneAsync"/> deleted, and how many.</summary>
public sealed record PrunedRun(string RunId, string Status, DateTimeOffset FinishedAt, long EventsRemoved);

/// <summary>
/// Wakes readers that follow a run. Subscribe before reading, then await the task after finding
/// nothing new: a change committed in between completes it, so no wake-up is lost. Only a hint:
/// readers keep a timed poll as backstop.
/// </summary>
public interface IRunChangeNotifier
{
    /// <summary>
    /// Not a run: the key whose change means "a run was queued". Workers wait on it, so a run
    /// accepted by one node wakes the idle workers of every node (a provider that spans nodes
    /// signals it across them; in one process the API wakes its workers directly).
    /// </summary>
    const string QueueKey = "*queue*";

    /// <summary>A task that completes at the next committed change of the run.</summary>
    Task NextChangeAsync(string runId);

    /// <summary>Signals a committed change (providers call it after commit).</summary>
    void Notify(string runId);
}
