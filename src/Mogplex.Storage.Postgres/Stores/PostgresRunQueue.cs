using Dapper;
using static Mogplex.Storage.Postgres.PostgresDatabase;

namespace Mogplex.Storage.Postgres.Stores;

internal sealed class PostgresRunQueue(PostgresDatabase db, PostgresRunChangeNotifier notifier) : IRunQueue
{
    private const string SelectRun = PostgresRunReader.Select;

    /// <summary>timestamptz ends at year 294276; callers asking for "everything expired" pass DateTimeOffset.MaxValue.</summary>
    private static readonly DateTimeOffset s_maxTimestamp = new(9999, 12, 31, 0, 0, 0, TimeSpan.Zero);

    public Task<RunRecord?> ClaimNextAsync(RunClaim claim, CancellationToken cancellationToken) =>
        db.WriteAsync(async (c, t) =>
        {
            // Claims take turns (a transaction-scoped advisory lock per schema): the claim of a run
            // whose working branch, or whose user's last free place, is being claimed elsewhere at
            // the same moment must see that claim, which two concurrent snapshots would not (the
            // UPDATE's snapshot is taken after the lock, so it sees every claim committed before).
            // A claim is one short statement, so the turn is brief. The sub-select takes the oldest
            // claimable run whose branch no claimed active run holds (the same working branch of
            // the same source, through any repo record: two users may link one source) and whose
            // user has fewer claimed active runs than the per-user limit: runs for one branch go one
            // at a time on any node, one user cannot take every worker of all nodes, and a run that
            // waits holds no worker.
            var at = PostgresTime.ToDb(claim.Now);
            await c.ExecuteAsync(Command("SELECT pg_advisory_xact_lock(@LockClass, hashtext(current_schema()))", new { LockClass = ClaimLockClass }, t, cancellationToken));
            return await PostgresRunReader.QuerySingleOrDefaultAsync(c, Command(
                $"""
                UPDATE runs SET lease_owner = @Owner, lease_expires_at = @until, runtime_run_id = @ExecutionId, updated_at = @at
                WHERE id = (SELECT r.id FROM runs r JOIN repos rr ON rr.id = r.repo_id
                            WHERE (r.status = 'pending' OR (r.status = 'streaming' AND r.interactive)) AND r.lease_owner IS NULL AND r.cancel_requested_at IS NULL
                              AND NOT EXISTS (SELECT 1 FROM runs b JOIN repos rb ON rb.id = b.repo_id
                                              WHERE b.working_branch = r.working_branch AND rb.source = rr.source
                                                AND b.id <> r.id
                                                AND (b.status = 'streaming' OR (b.status = 'pending' AND b.lease_owner IS NOT NULL)))
                              AND (@MaxActivePerUser::integer IS NULL
                                   OR (SELECT count(*) FROM runs u
                                       WHERE u.user_id = r.user_id AND u.status IN ('pending','streaming') AND u.lease_owner IS NOT NULL) < @MaxActivePerUser)
                            ORDER BY r.created_at, r.id
                            LIMIT 1
                            FOR UPDATE OF r SKIP LOCKED)
                RETURNING {PostgresRunReader.Columns}
                """,
                new { claim.Owner, claim.ExecutionId, claim.MaxActivePerUser, at, until = PostgresTime.ToDb(claim.Now + claim.Lease) },
                t,
                cancellationToken));
        }, cancellationToken);

    public Task<IReadOnlyList<RunWait>> ListWaitingAsync(RunWaitQuery query, CancellationToken cancellationToken)
    {
        if (query.RunIds is { Count: 0 })
        {
            return Task.FromResult<IReadOnlyList<RunWait>>([]);
        }

        // A read outside the claim's advisory lock: a snapshot of committed claims, which is all
        // an answer about a moment can be (the same on every node).
        var sql = WaitingRunsQuery.Sql
            + (query.RunIds is null ? "" : " AND RunId = ANY(@RunIds)")
            + (query.OnlyUnannounced ? " AND Announced IS DISTINCT FROM WaitingFor" : "")
            + " ORDER BY created_at, RunId";
        return db.ReadAsync<IReadOnlyList<RunWait>>(
            async c => [.. (await c.QueryAsync<WaitingRunsQuery.Row>(Command(sql, new { query.MaxActivePerUser, RunIds = query.RunIds?.ToArray() }, null, cancellationToken))).Select(r => r.ToWait())],
            cancellationToken);
    }

    public async Task<bool> AnnounceWaitAsync(string runId, string waitingFor, NewRunEvent announcement, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var announced = await db.WriteAsync(async (c, t) =>
        {
            // Fenced on the run still waiting and on the reason being new. Two nodes announcing the
            // same reason take turns on the row lock, and the second re-reads the row after the
            // first commits (read committed): it changes nothing and appends nothing.
            var changed = await c.ExecuteAsync(Command(
                """
                UPDATE runs SET wait_announced = @waitingFor
                WHERE id = @runId AND status = 'pending' AND lease_owner IS NULL AND cancel_requested_at IS NULL
                  AND wait_announced IS DISTINCT FROM @waitingFor
                """,
                new { runId, waitingFor },
                t,
                cancellationToken));
            if (changed == 1)
            {
                await PostgresRunEventLog.AppendAsync(c, t, runId, [announcement], now, cancellationToken);
                await notifier.NotifyInTransactionAsync(c, t, runId, cancellationToken);
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
        db.WriteAsync(async (c, t) => await c.ExecuteAsync(Command(
            "UPDATE runs SET lease_expires_at = @until WHERE id = @runId AND lease_owner = @owner AND status IN ('pending','streaming')",
            new { runId, owner, until = PostgresTime.ToDb(now + lease) },
            t,
            cancellationToken)) > 0, cancellationToken);

    public Task<IReadOnlyList<RunRecord>> ListExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        db.ReadAsync(c => PostgresRunReader.QueryAsync(c, Command(
            $"{SelectRun} WHERE status IN ('pending','streaming') AND lease_owner IS NOT NULL AND lease_expires_at < @now ORDER BY created_at, id",
            new { now = PostgresTime.ToDb(Clamp(now)) },
            null,
            cancellationToken)), cancellationToken);

    public Task<IReadOnlyList<RunRecord>> ListHeldByAsync(string owner, CancellationToken cancellationToken) =>
        db.ReadAsync(c => PostgresRunReader.QueryAsync(c, Command(
            $"{SelectRun} WHERE status IN ('pending','streaming') AND lease_owner = @owner ORDER BY created_at, id",
            new { owner },
            null,
            cancellationToken)), cancellationToken);

    public Task AddUsageAsync(string runId, UsageDelta usage, CancellationToken cancellationToken) =>
        db.WriteAsync(async (c, t) => await c.ExecuteAsync(Command(
            // One statement: concurrent reports add up (the row lock serializes them).
            """
            UPDATE runs SET
                input_tokens = CASE WHEN @In::bigint IS NULL THEN input_tokens ELSE COALESCE(input_tokens, 0) + @In END,
                cached_input_tokens = CASE WHEN @Cached::bigint IS NULL THEN cached_input_tokens ELSE COALESCE(cached_input_tokens, 0) + @Cached END,
                output_tokens = CASE WHEN @Out::bigint IS NULL THEN output_tokens ELSE COALESCE(output_tokens, 0) + @Out END,
                cost_usd = CASE WHEN @Cost::numeric IS NULL THEN cost_usd ELSE COALESCE(cost_usd, 0) + @Cost END
            WHERE id = @runId
            """,
            new { runId, In = usage.InputTokens, Cached = usage.CachedInputTokens, Out = usage.OutputTokens, Cost = usage.CostUsd },
            t,
            cancellationToken)), cancellationToken);

    private static DateTimeOffset Clamp(DateTimeOffset value) => value > s_maxTimestamp ? s_maxTimestamp : value;
}
