namespace Mogplex.Storage;

/// <summary>
/// The run queue: workers claim pending runs with a lease, renew it while they work, and a
/// reaper fails runs whose lease expired. Every write is fenced on the lease owner.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711", Justification = "It is a queue: the name says what it is (STYLE.md names it IRunQueue).")]
public interface IRunQueue
{
    /// <summary>
    /// Claims the oldest pending, unclaimed, not-cancelled run for <see cref="RunClaim.Owner"/> in
    /// one atomic statement, setting its lease and node-local execution id; an interactive run kept
    /// open across a restart (<c>streaming</c> without a lease) is claimed like a pending one, to be
    /// resumed. A run is passed over while a claimed active run (or a streaming one) holds its branch, or while its user already has
    /// <see cref="RunClaim.MaxActivePerUser"/> claimed active runs (counted on every node). Null
    /// when no run can be claimed.
    /// </summary>
    Task<RunRecord?> ClaimNextAsync(RunClaim claim, CancellationToken cancellationToken);

    /// <summary>Renews the lease; false when the run is no longer held by <paramref name="owner"/> or is terminal.</summary>
    Task<bool> HeartbeatAsync(string runId, string owner, DateTimeOffset now, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>Active runs (pending with a lease, or streaming) whose lease expired before <paramref name="now"/>.</summary>
    Task<IReadOnlyList<RunRecord>> ListExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Active runs held by <paramref name="owner"/> (used at start-up to fail what a previous process left).</summary>
    Task<IReadOnlyList<RunRecord>> ListHeldByAsync(string owner, CancellationToken cancellationToken);

    /// <summary>Adds usage to the run's totals (null parts leave totals unchanged).</summary>
    Task AddUsageAsync(string runId, UsageDelta usage, CancellationToken cancellationToken);

    /// <summary>
    /// Why the waiting runs wait and their places, read from the database in one statement (the
    /// same answer on every node). Waiting: <c>pending</c>, unclaimed, not cancel-requested. The
    /// line is the claim's order (created_at, id) and rules: a run waits for its <c>branch</c> while a
    /// claimed active run holds it or an earlier waiting run of the branch goes first; else for
    /// <c>user-limit</c> while its user's claimed active runs plus its user's earlier branch-free
    /// waiting runs reach <see cref="RunWaitQuery.MaxActivePerUser"/>; else for a <c>worker</c>.
    /// </summary>
    Task<IReadOnlyList<RunWait>> ListWaitingAsync(RunWaitQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// Records that the run's waiting reason <paramref name="waitingFor"/> was announced and appends
    /// <paramref name="announcement"/>, in one transaction, only if the run still waits (pending,
    /// unclaimed) and that reason was not the last one announced. True when this call announced it:
    /// of concurrent callers (on any node) at most one does.
    /// </summary>
    Task<bool> AnnounceWaitAsync(string runId, string waitingFor, NewRunEvent announcement, DateTimeOffset now, CancellationToken cancellationToken);
}

/// <summary>The input of <see cref="IRunQueue.ListWaitingAsync"/>.</summary>
/// <param name="MaxActivePerUser">The per-user limit the claim honours (null: none).</param>
/// <param name="RunIds">Only these runs (null: every waiting run).</param>
/// <param name="OnlyUnannounced">Only runs whose reason differs from the last one announced.</param>
public sealed record RunWaitQuery(int? MaxActivePerUser, IReadOnlyCollection<string>? RunIds = null, bool OnlyUnannounced = false);

/// <summary>A waiting run, why it waits and its place (see <c>RunQueuePlace</c> in the contracts).</summary>
/// <param name="RunId">The run.</param>
/// <param name="WaitingFor"><c>branch</c>, <c>worker</c> or <c>user-limit</c>.</param>
/// <param name="Position">1-based place among the waiting runs of the same line.</param>
/// <param name="WorkingBranch">The run's working branch (for the announcement).</param>
/// <param name="Announced">The reason last announced in the run's events, if any.</param>
public sealed record RunWait(string RunId, string WaitingFor, int Position, string WorkingBranch, string? Announced);

/// <summary>A worker's claim: who claims, for how long, and the per-user limit it honours.</summary>
/// <param name="Owner">The claiming node (stored as the lease owner).</param>
/// <param name="ExecutionId">The node-local execution id stored with the claim.</param>
/// <param name="Now">The claim time; the lease runs from it.</param>
/// <param name="Lease">How long the claim holds without a heartbeat.</param>
/// <param name="MaxActivePerUser">
/// A user who already has this many claimed active runs (pending with a lease, or streaming, on
/// any node) gets no further run claimed; null: no limit.
/// </param>
public sealed record RunClaim(string Owner, string ExecutionId, DateTimeOffset Now, TimeSpan Lease, int? MaxActivePerUser = null);

/// <summary>Token and cost usage reported by a harness.</summary>
public sealed record UsageDelta(long? InputTokens, long? CachedInputTokens, long? OutputTokens, decimal? CostUsd);
