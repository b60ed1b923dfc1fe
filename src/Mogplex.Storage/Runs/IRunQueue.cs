namespace Mogplex.Storage;

/// <summary>
/// The run queue: workers claim pending runs with a lease, renew it while they work, and a
/// reaper fails runs whose lease expired. Every write is fenced on the lease owner.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711", Justification = "It is a queue: the name says what it is (STYLE.md names it IRunQueue).")]
public interface IRunQueue
{
    /// <summary>
    /// Claims the oldest pending, unclaimed, not-cancelled run for <paramref name="owner"/> in one
    /// atomic statement, setting its lease and node-local execution id. Null when none is waiting.
    /// </summary>
    Task<RunRecord?> ClaimNextAsync(string owner, string executionId, DateTimeOffset now, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>Renews the lease; false when the run is no longer held by <paramref name="owner"/> or is terminal.</summary>
    Task<bool> HeartbeatAsync(string runId, string owner, DateTimeOffset now, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>Active runs (pending with a lease, or streaming) whose lease expired before <paramref name="now"/>.</summary>
    Task<IReadOnlyList<RunRecord>> ListExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Active runs held by <paramref name="owner"/> (used at start-up to fail what a previous process left).</summary>
    Task<IReadOnlyList<RunRecord>> ListHeldByAsync(string owner, CancellationToken cancellationToken);

    /// <summary>Adds usage to the run's totals (null parts leave totals unchanged).</summary>
    Task AddUsageAsync(string runId, UsageDelta usage, CancellationToken cancellationToken);
}

/// <summary>Token and cost usage reported by a harness.</summary>
public sealed record UsageDelta(long? InputTokens, long? CachedInputTokens, long? OutputTokens, decimal? CostUsd);
