using System.Globalization;
using Dapper;

namespace Mogplex.Storage.Sqlite.Stores;

internal sealed class SqliteRunQueue(SqliteDatabase db, IRunChangeNotifier notifier) : IRunQueue
{
    private const string SelectRun = SqliteRunReader.Select;

    /// <summary>
    /// The claim's rules (<see cref="ClaimNextAsync"/>) over every unclaimed claimable run at once,
    /// in the claim's order: <c>queued</c> is what the claim considers (interactive runs kept open
    /// included: they take a worker too), <c>held</c> its branch test; only the first queued run of a
    /// free branch can be claimed (<c>branch_free</c>), and of those only a user's first
    /// (limit − claimed active) ones (<c>claimable</c>): the order in which workers would take them.
    /// </summary>
    private const string WaitingRuns =
        """
        WITH queued AS (
            SELECT r.id, r.user_id, r.status, r.working_branch, r.wait_announced, rr.source, r.created_at,
                   EXISTS (SELECT 1 FROM runs b JOIN repos rb ON rb.id = b.repo_id
                           WHERE b.working_branch = r.working_branch AND rb.source = rr.source
                             AND b.id <> r.id
                             AND (b.status = 'streaming' OR (b.status = 'pending' AND b.lease_owner IS NOT NULL))) AS held
            FROM runs r JOIN repos rr ON rr.id = r.repo_id
            WHERE (r.status = 'pending' OR (r.status = 'streaming' AND r.interactive = 1)) AND r.lease_owner IS NULL AND r.cancel_requested_at IS NULL
        ),
        lined AS (
            SELECT q.*, ROW_NUMBER() OVER (PARTITION BY q.source, q.working_branch ORDER BY q.created_at, q.id) AS branch_place
            FROM queued q
        ),
        active AS (
            SELECT user_id, COUNT(*) AS n FROM runs
            WHERE status IN ('pending','streaming') AND lease_owner IS NOT NULL GROUP BY user_id
        ),
        branch_free AS (
            SELECT l.id, l.created_at, COALESCE(a.n, 0) AS user_active,
                   ROW_NUMBER() OVER (PARTITION BY l.user_id ORDER BY l.created_at, l.id) AS user_place
            FROM lined l LEFT JOIN active a ON a.user_id = l.user_id
            WHERE NOT l.held AND l.branch_place = 1
        ),
        claimable AS (
            SELECT f.id, ROW_NUMBER() OVER (ORDER BY f.created_at, f.id) AS worker_place
            FROM branch_free f
            WHERE @MaxActivePerUser IS NULL OR f.user_active + f.user_place <= @MaxActivePerUser
        ),
        waiting AS (
            SELECT l.id AS RunId, l.created_at,
                   CASE WHEN f.id IS NULL THEN 'branch' WHEN c.id IS NULL THEN 'user-limit' ELSE 'worker' END AS WaitingFor,
                   CASE WHEN f.id IS NULL THEN l.branch_place WHEN c.id IS NULL THEN f.user_place ELSE c.worker_place END AS Position,
                   l.working_branch AS WorkingBranch, l.wait_announced AS Announced
            FROM lined l LEFT JOIN branch_free f ON f.id = l.id LEFT JOIN claimable c ON c.id = l.id
            WHERE l.status = 'pending'
        )
        SELECT RunId, WaitingFor, Position, WorkingBranch, Announced FROM waiting WHERE 1 = 1
        """;

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

        var sql = WaitingRuns
            + (query.RunIds is null ? "" : " AND RunId IN @RunIds")
            + (query.OnlyUnannounced ? " AND (Announced IS NULL OR Announced <> WaitingFor)" : "")
            + " ORDER BY created_at, RunId";
        return db.ReadAsync<IReadOnlyList<RunWait>>(
            async c => [.. (await c.QueryAsync<WaitRow>(sql, new { query.MaxActivePerUser, query.RunIds })).Select(r => r.ToWait())],
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

    private sealed class WaitRow
    {
        public string RunId { get; set; } = "";
        public string WaitingFor { get; set; } = "";
        public long Position { get; set; }
        public string WorkingBranch { get; set; } = "";
        public string? Announced { get; set; }

        public RunWait ToWait() => new(RunId, WaitingFor, (int)Position, WorkingBranch, Announced);
    }
}
