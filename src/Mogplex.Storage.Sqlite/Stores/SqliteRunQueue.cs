using System.Globalization;
using Dapper;

namespace Mogplex.Storage.Sqlite.Stores;

internal sealed class SqliteRunQueue(SqliteDatabase db, IRunChangeNotifier notifier) : IRunQueue
{
    private const string SelectRun = SqliteRunReader.Select;

    public Task<RunRecord?> ClaimNextAsync(RunClaim claim, CancellationToken cancellationToken) =>
        db.WriteAsync(async (c, t) =>
        {
            // SQLite has one writer, so the UPDATE over a sub-select inside BEGIN IMMEDIATE is atomic
            // (PostgreSQL takes an advisory lock for the same statement). The oldest claimable run
            // whose branch no claimed active run holds (the same working branch of the same source,
            // through any repo record: two users may link one source), and whose user has fewer
            // claimed active runs than the per-user limit: runs for one branch go one at a time,
            // one user cannot take every worker, and a run that waits holds no worker.
            var nowMs = SqliteTime.ToMs(claim.Now);
            var id = await c.ExecuteScalarAsync<string?>(
                """
                UPDATE runs SET lease_owner = @Owner, lease_expires_at = @until, runtime_run_id = @ExecutionId, updated_at = @nowMs
                WHERE id = (SELECT r.id FROM runs r JOIN repos rr ON rr.id = r.repo_id
                            WHERE (r.status = 'pending' OR (r.status = 'streaming' AND r.interactive = 1)) AND r.lease_owner IS NULL AND r.cancel_requested_at IS NULL
                              AND NOT EXISTS (SELECT 1 FROM runs b JOIN repos rb ON rb.id = b.repo_id
                                              WHERE b.working_branch = r.working_branch AND rb.source = rr.source
                                                AND b.id <> r.id
                                                AND (b.status = 'streaming' OR (b.status = 'pending' AND b.lease_owner IS NOT NULL)))
                              AND (@MaxActivePerUser IS NULL
                                   OR (SELECT COUNT(*) FROM runs u
                                       WHERE u.user_id = r.user_id AND u.status IN ('pending','streaming') AND u.lease_owner IS NOT NULL) < @MaxActivePerUser)
                            ORDER BY r.created_at, r.id LIMIT 1)
                RETURNING id
                """,
                new { claim.Owner, claim.ExecutionId, claim.MaxActivePerUser, nowMs, until = nowMs + (long)claim.Lease.TotalMilliseconds },
                t);
            return id is null ? null : await SqliteRunReader.QuerySingleAsync(c, $"{SelectRun} WHERE id = @id", new { id }, t);
        }, cancellationToken);

    public Task<IReadOnlyList<RunWait>> ListWaitingAsync(RunWaitQuery query, CancellationToken cancellationToken)
    {
        if (query.RunIds is { Count: 0 })
        {
            return Task.FromResult<IReadOnlyList<RunWait>>([]);
        }

        var sql = WaitingRunsQuery.Sql
            + (query.RunIds is null ? "" : " AND RunId IN @RunIds")
            + (query.OnlyUnannounced ? " AND (Announced IS NULL OR Announced <> WaitingFor)" : "")
            + " ORDER BY created_at, RunId";
        return db.ReadAsync<IReadOnlyList<RunWait>>(
            async c => [.. (await c.QueryAsync<WaitingRunsQuery.Row>(sql, new { query.MaxActivePerUser, query.RunIds })).Select(r => r.ToWait())],
            cancellationToken);
    }

    public async Task<bool> AnnounceWaitAsync(string runId, string waitingFor, NewRunEvent announcement, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var announced = await db.WriteAsync(async (c, t) =>
        {
            // Fenced on the run still waiting and on the reason being new: a second pass (or a
            // second caller) with the same reason changes nothing and appends nothing.
            var changed = await c.ExecuteAsync(
                """
                UPDATE runs SET wait_announced = @waitingFor
                WHERE id = @runId AND status = 'pending' AND lease_owner IS NULL AND cancel_requested_at IS NULL
                  AND (wait_announced IS NULL OR wait_announced <> @waitingFor)
                """,
                new { runId, waitingFor },
                t);
            if (changed == 1)
            {
                await SqliteRunEventLog.AppendAsync(c, t, runId, [announcement], SqliteTime.ToMs(now));
            }

            return changed == 1;
        }, cancellationToken);
        if (announced)
        {
            notifier.Notify(runId);
        }

        return announced;
    }

    public Task<bool> HeartbeatAsync(string runId, string owner, DateTimeOffset now, TimeSpan lease, CancellationToken cancellationToken) =>
        db.WriteAsync(async (c, t) => await c.ExecuteAsync(
            "UPDATE runs SET lease_expires_at = @until WHERE id = @runId AND lease_owner = @owner AND status IN ('pending','streaming')",
            new { runId, owner, until = SqliteTime.ToMs(now) + (long)lease.TotalMilliseconds },
            t) > 0, cancellationToken);

    public Task<IReadOnlyList<RunRecord>> ListExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        db.ReadAsync(c => SqliteRunReader.QueryAsync(
            c,
            $"{SelectRun} WHERE status IN ('pending','streaming') AND lease_owner IS NOT NULL AND lease_expires_at < @nowMs ORDER BY created_at",
            new { nowMs = SqliteTime.ToMs(now) }), cancellationToken);

    public Task<IReadOnlyList<RunRecord>> ListHeldByAsync(string owner, CancellationToken cancellationToken) =>
        db.ReadAsync(c => SqliteRunReader.QueryAsync(
            c,
            $"{SelectRun} WHERE status IN ('pending','streaming') AND lease_owner = @owner ORDER BY created_at",
            new { owner }), cancellationToken);

    public Task AddUsageAsync(string runId, UsageDelta usage, CancellationToken cancellationToken) =>
        db.WriteAsync(async (c, t) =>
        {
            var current = await c.ExecuteScalarAsync<string?>("SELECT cost_usd FROM runs WHERE id = @runId", new { runId }, t);
            decimal? cost = usage.CostUsd is null ? null : (current is null ? 0m : decimal.Parse(current, CultureInfo.InvariantCulture)) + usage.CostUsd.Value;
            return await c.ExecuteAsync(
                """
                UPDATE runs SET
                    input_tokens = CASE WHEN @In IS NULL THEN input_tokens ELSE COALESCE(input_tokens, 0) + @In END,
                    cached_input_tokens = CASE WHEN @Cached IS NULL THEN cached_input_tokens ELSE COALESCE(cached_input_tokens, 0) + @Cached END,
                    output_tokens = CASE WHEN @Out IS NULL THEN output_tokens ELSE COALESCE(output_tokens, 0) + @Out END,
                    cost_usd = COALESCE(@Cost, cost_usd)
                WHERE id = @runId
                """,
                new
                {
                    runId,
                    In = usage.InputTokens,
                    Cached = usage.CachedInputTokens,
                    Out = usage.OutputTokens,
                    Cost = cost?.ToString(CultureInfo.InvariantCulture),
                },
                t);
        }, cancellationToken);
}
