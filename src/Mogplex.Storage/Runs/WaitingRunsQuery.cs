namespace Mogplex.Storage;

/// <summary>
/// Where each unclaimed run stands in the queue, as one query both providers run (the same SQL
/// reads the same on SQLite and PostgreSQL: <c>= TRUE</c> for the flag, a cast for the limit that
/// may be null). It applies the claim's rules (each provider's <c>ClaimNextAsync</c>) to every
/// unclaimed claimable run at once, in the claim's order: <c>queued</c> is what the claim considers
/// (interactive runs kept open included: they take a worker too), <c>held</c> its branch test; only
/// the first queued run of a free branch can be claimed (<c>branch_free</c>), and of those only a
/// user's first (limit − claimed active) ones (<c>claimable</c>): the order in which workers would
/// take them. It ends in <c>WHERE 1 = 1</c> so that a provider adds its own filters (a list of
/// ids is written differently) and the order (<c>ORDER BY created_at, RunId</c>).
/// </summary>
public static class WaitingRunsQuery
{
    public const string Sql =
        """
        WITH queued AS (
            SELECT r.id, r.user_id, r.status, r.working_branch, r.wait_announced, rr.source, r.created_at,
                   EXISTS (SELECT 1 FROM runs b JOIN repos rb ON rb.id = b.repo_id
                           WHERE b.working_branch = r.working_branch AND rb.source = rr.source
                             AND b.id <> r.id
                             AND (b.status = 'streaming' OR (b.status = 'pending' AND b.lease_owner IS NOT NULL))) AS held
            FROM runs r JOIN repos rr ON rr.id = r.repo_id
            WHERE (r.status = 'pending' OR (r.status = 'streaming' AND r.interactive = TRUE)) AND r.lease_owner IS NULL AND r.cancel_requested_at IS NULL
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
            WHERE CAST(@MaxActivePerUser AS INTEGER) IS NULL OR f.user_active + f.user_place <= @MaxActivePerUser
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

    /// <summary>One row of <see cref="Sql"/>, as Dapper reads it.</summary>
    public sealed class Row
    {
        public string RunId { get; set; } = "";
        public string WaitingFor { get; set; } = "";
        public long Position { get; set; }
        public string WorkingBranch { get; set; } = "";
        public string? Announced { get; set; }

        public RunWait ToWait() => new(RunId, WaitingFor, (int)Position, WorkingBranch, Announced);
    }
}
