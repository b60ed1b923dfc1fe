using Dapper;
using Npgsql;
using static Mogplex.Storage.Postgres.PostgresDatabase;

namespace Mogplex.Storage.Postgres.Stores;

/// <summary>
/// Sliding-window limits shared by every node. A bucket's windows are checked and counted under a
/// transaction-scoped advisory lock on the bucket, so concurrent callers on any number of
/// connections and nodes take turns: the check and the count are one atomic step, and no more
/// than the limit is ever allowed. (One lock per bucket, not per window: the windows of a bucket
/// are always taken together, in whatever order the caller lists them, without a deadlock.)
/// </summary>
internal sealed class PostgresRateLimitStore(PostgresDatabase db) : IRateLimitStore
{
    public Task<RateLimitDecision> TryAcquireAsync(string bucket, IReadOnlyList<RateWindow> windows, DateTimeOffset now, CancellationToken cancellationToken) =>
        db.WriteAsync((c, t) => AcquireAsync(c, t, bucket, windows, PostgresTime.ToMs(now), cancellationToken), cancellationToken);

    public Task<long> RecordHitsAsync(string bucket, RateWindow window, IReadOnlyList<DateTimeOffset> hits, DateTimeOffset now, CancellationToken cancellationToken) =>
        db.WriteAsync(async (c, t) =>
        {
            await LockBucketAsync(c, t, bucket, cancellationToken);
            var key = bucket + ":" + window.Name;
            var (count, _) = await PruneAsync(c, t, key, (long)window.Window.TotalMilliseconds, PostgresTime.ToMs(now), cancellationToken);
            if (hits.Count > 0)
            {
                await c.ExecuteAsync(Command(
                    """
                    INSERT INTO rate_limit_hits (bucket, at_ms) SELECT @key, at FROM unnest(@ats) AS at;
                    INSERT INTO rate_limit_counts (bucket, n) VALUES (@key, @n)
                    ON CONFLICT (bucket) DO UPDATE SET n = rate_limit_counts.n + excluded.n;
                    """,
                    new { key, ats = hits.Select(PostgresTime.ToMs).ToArray(), n = (long)hits.Count },
                    t,
                    cancellationToken));
            }

            return count + hits.Count;
        }, cancellationToken);

    /// <summary>
    /// A sliding-window log per (bucket, window) with a running count, inside the caller's
    /// transaction and under the bucket's lock. Each check prunes the hits that left the window
    /// (each hit is deleted once), reads the count and the oldest hit in one round trip and, on a
    /// denial only, the hit to wait for; <see cref="SlidingWindow"/> decides. Only allowed hits are recorded.
    /// </summary>
    internal static async Task<RateLimitDecision> AcquireAsync(NpgsqlConnection c, NpgsqlTransaction t, string bucket, IReadOnlyList<RateWindow> windows, long nowMs, CancellationToken cancellationToken)
    {
        await LockBucketAsync(c, t, bucket, cancellationToken);
        RateLimitDecision? tightest = null;
        foreach (var window in windows)
        {
            var key = bucket + ":" + window.Name;
            var (count, oldest) = await PruneAsync(c, t, key, (long)window.Window.TotalMilliseconds, nowMs, cancellationToken);
            long? waitFor = null;
            if (count >= window.Limit)
            {
                waitFor = await c.ExecuteScalarAsync<long>(Command(
                    "SELECT at_ms FROM rate_limit_hits WHERE bucket = @key ORDER BY at_ms OFFSET @offset LIMIT 1",
                    new { key, offset = count - window.Limit },
                    t,
                    cancellationToken));
            }

            var decision = SlidingWindow.Decide(window, count, oldest, waitFor, nowMs);
            if (!decision.Allowed)
            {
                return decision;
            }

            if (tightest is null || decision.Remaining < tightest.Remaining)
            {
                tightest = decision;
            }
        }

        var keys = windows.Select(w => bucket + ":" + w.Name).ToArray();
        await c.ExecuteAsync(Command(
            """
            INSERT INTO rate_limit_hits (bucket, at_ms) SELECT key, @nowMs FROM unnest(@keys) AS key;
            INSERT INTO rate_limit_counts (bucket, n) SELECT key, 1 FROM unnest(@keys) AS key
            ON CONFLICT (bucket) DO UPDATE SET n = rate_limit_counts.n + 1;
            """,
            new { keys, nowMs },
            t,
            cancellationToken));
        return tightest!;
    }

    /// <summary>Serializes the writers of one bucket until the transaction ends (commit or rollback).</summary>
    private static Task<int> LockBucketAsync(NpgsqlConnection c, NpgsqlTransaction t, string bucket, CancellationToken cancellationToken) =>
        c.ExecuteAsync(Command("SELECT pg_advisory_xact_lock(@LockClass, hashtext(@bucket))", new { LockClass = RateLimitLockClass, bucket }, t, cancellationToken));

    /// <summary>Deletes the hits that left the window; returns how many stay and the oldest of them.</summary>
    private static async Task<(long Count, long? Oldest)> PruneAsync(NpgsqlConnection c, NpgsqlTransaction t, string key, long windowMs, long nowMs, CancellationToken cancellationToken)
    {
        // The statement's sub-queries all see one snapshot, taken before the DELETE: the oldest
        // hit is read among those that stay.
        var row = await c.QuerySingleAsync<(long? Count, long? Oldest)>(Command(
            """
            WITH pruned AS (
                DELETE FROM rate_limit_hits WHERE bucket = @key AND at_ms <= @cutoff RETURNING 1
            ), counted AS (
                UPDATE rate_limit_counts SET n = n - (SELECT count(*) FROM pruned) WHERE bucket = @key RETURNING n
            )
            SELECT (SELECT n FROM counted) AS Count,
                   (SELECT min(at_ms) FROM rate_limit_hits WHERE bucket = @key AND at_ms > @cutoff) AS Oldest
            """,
            new { key, cutoff = nowMs - windowMs },
            t,
            cancellationToken));
        var count = row.Count ?? 0;
        return (count, count == 0 ? null : row.Oldest);
    }
}
