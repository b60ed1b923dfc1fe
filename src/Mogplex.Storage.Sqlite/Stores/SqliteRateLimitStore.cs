using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;

namespace Mogplex.Storage.Sqlite.Stores;

internal sealed class SqliteRateLimitStore(SqliteDatabase db) : IRateLimitStore
{
    public Task<RateLimitDecision> TryAcquireAsync(string bucket, IReadOnlyList<RateWindow> windows, DateTimeOffset now, CancellationToken cancellationToken) =>
        db.WriteAsync((c, t) => AcquireAsync(c, t, bucket, windows, SqliteTime.ToMs(now)), cancellationToken);

    /// <summary>
    /// Checks each window in order inside the caller's write transaction and counts one hit when
    /// all allow. Hits older than the longest window are pruned on the way.
    /// </summary>
    internal static async Task<RateLimitDecision> AcquireAsync(SqliteConnection c, DbTransaction t, string bucket, IReadOnlyList<RateWindow> windows, long nowMs)
    {
        var longest = (long)windows.Max(w => w.Window.TotalMilliseconds);
        await c.ExecuteAsync("DELETE FROM rate_limit_hits WHERE bucket = @bucket AND at_ms <= @cutoff", new { bucket, cutoff = nowMs - longest }, t);

        RateLimitDecision? tightest = null;
        foreach (var window in windows)
        {
            var since = nowMs - (long)window.Window.TotalMilliseconds;
            var hits = (await c.QueryAsync<long>(
                "SELECT at_ms FROM rate_limit_hits WHERE bucket = @bucket AND at_ms > @since ORDER BY at_ms",
                new { bucket, since },
                t)).AsList();
            var decision = SlidingWindow.Decide(window, hits, nowMs);
            if (!decision.Allowed)
            {
                return decision;
            }

            if (tightest is null || decision.Remaining < tightest.Remaining)
            {
                tightest = decision;
            }
        }

        await c.ExecuteAsync("INSERT INTO rate_limit_hits (bucket, at_ms) VALUES (@bucket, @nowMs)", new { bucket, nowMs }, t);
        return tightest!;
    }
}
