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
}

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
