using Dapper;
using Npgsql;
using static Mogplex.Storage.Postgres.PostgresDatabase;

namespace Mogplex.Storage.Postgres.Stores;

internal sealed class PostgresSandboxStore(PostgresDatabase db) : ISandboxStore
{
    private sealed class Row
    {
        public string Id { get; set; } = "";
        public string? SandboxId { get; set; }
        public string UserId { get; set; } = "";
        public string RepoId { get; set; } = "";
        public string Status { get; set; } = "";
        public string BaseBranch { get; set; } = "";
        public string WorkingBranch { get; set; } = "";
        public string RootDirectory { get; set; } = "";
        public string? PreviewUrl { get; set; }
        public string? NodeId { get; set; }
        public string? Path { get; set; }
        public string? Error { get; set; }
        public string? InstallLog { get; set; }
        public string? DevLog { get; set; }
        public DateTime CreatedAt { get; set; }
        public DateTime LastActiveAt { get; set; }

        public SandboxRecord ToRecord() => new()
        {
            Id = Id,
            SandboxId = SandboxId,
            UserId = UserId,
            RepoId = RepoId,
            Status = Status,
            BaseBranch = BaseBranch,
            WorkingBranch = WorkingBranch,
            RootDirectory = RootDirectory,
            PreviewUrl = PreviewUrl,
            NodeId = NodeId,
            Path = Path,
            Error = Error,
            InstallLog = InstallLog,
            DevLog = DevLog,
            CreatedAt = PostgresTime.FromDb(CreatedAt),
            LastActiveAt = PostgresTime.FromDb(LastActiveAt),
        };
    }

    private sealed class LifecycleRow
    {
        public string Id { get; set; } = "";
        public string SandboxId { get; set; } = "";
        public string EventType { get; set; } = "";
        public string? DecisionCode { get; set; }
        public string? WorkerRunId { get; set; }
        public string? Payload { get; set; }
        public DateTime CreatedAt { get; set; }
    }

    private const string Columns =
        "id AS Id, sandbox_id AS SandboxId, user_id AS UserId, repo_id AS RepoId, status AS Status, base_branch AS BaseBranch, " +
        "working_branch AS WorkingBranch, root_directory AS RootDirectory, preview_url AS PreviewUrl, node_id AS NodeId, path AS Path, " +
        "error AS Error, install_log AS InstallLog, dev_log AS DevLog, created_at AS CreatedAt, last_active_at AS LastActiveAt";

    private const string Select = $"SELECT {Columns} FROM sandboxes";

    private const string ActiveStatuses = "('creating','installing','running','pausing','paused')";

    /// <summary>A stop racing with our reuse can make the winner vanish between two statements; then we try again.</summary>
    private const int CreateAttempts = 5;

    public Task<(SandboxRecord Sandbox, bool Reused)> CreateOrReuseAsync(SandboxRecord candidate, SandboxLifecycleRecord created, CancellationToken cancellationToken) =>
        db.WriteAsync(async (c, t) =>
        {
            for (var attempt = 1; ; attempt++)
            {
                var active = await c.QuerySingleOrDefaultAsync<Row>(Command(
                    $"{Select} WHERE user_id = @UserId AND repo_id = @RepoId AND working_branch = @WorkingBranch AND root_directory = @RootDirectory AND status IN {ActiveStatuses}",
                    new { candidate.UserId, candidate.RepoId, candidate.WorkingBranch, candidate.RootDirectory },
                    t,
                    cancellationToken));
                if (active is not null)
                {
                    return (active.ToRecord(), true);
                }

                // The partial unique index decides between concurrent creators on any node: the
                // loser's insert waits for the winner's commit, then does nothing, and the loop
                // reads the winner.
                var at = PostgresTime.ToDb(candidate.CreatedAt);
                var inserted = await c.QuerySingleOrDefaultAsync<Row>(Command(
                    $"""
                    INSERT INTO sandboxes (id, sandbox_id, user_id, repo_id, status, base_branch, working_branch, root_directory, node_id, path, created_at, last_active_at)
                    VALUES (@Id, @SandboxId, @UserId, @RepoId, @Status, @BaseBranch, @WorkingBranch, @RootDirectory, @NodeId, @Path, @At, @At)
                    ON CONFLICT (user_id, repo_id, working_branch, root_directory) WHERE status IN {ActiveStatuses} DO NOTHING
                    RETURNING {Columns}
                    """,
                    new
                    {
                        candidate.Id,
                        candidate.SandboxId,
                        candidate.UserId,
                        candidate.RepoId,
                        candidate.Status,
                        candidate.BaseBranch,
                        candidate.WorkingBranch,
                        candidate.RootDirectory,
                        candidate.NodeId,
                        candidate.Path,
                        At = at,
                    },
                    t,
                    cancellationToken));
                if (inserted is not null)
                {
                    await InsertLifecycleAsync(c, t, created, cancellationToken);
                    return (inserted.ToRecord(), false);
                }

                if (attempt == CreateAttempts)
                {
                    throw new StorageUnavailableException("The sandbox record kept changing while it was created; retry later.");
                }
            }
        }, cancellationToken);

    public Task<SandboxRecord?> GetAsync(string id, string? userId, CancellationToken cancellationToken) =>
        db.ReadAsync(async c => (await c.QuerySingleOrDefaultAsync<Row>(Command(
            $"{Select} WHERE id = @id AND (@userId::text IS NULL OR user_id = @userId)", new { id, userId }, null, cancellationToken)))?.ToRecord(), cancellationToken);

    public Task<IReadOnlyList<SandboxRecord>> ListAsync(SandboxQuery query, CancellationToken cancellationToken) =>
        db.ReadAsync<IReadOnlyList<SandboxRecord>>(async c =>
        {
            var rows = await c.QueryAsync<Row>(Command(
                $"""
                {Select}
                WHERE (@UserId::text IS NULL OR user_id = @UserId) AND (@RepoId::text IS NULL OR repo_id = @RepoId) AND (@Status::text IS NULL OR status = @Status)
                ORDER BY last_active_at DESC, id DESC LIMIT @Limit
                """,
                new { query.UserId, query.RepoId, query.Status, query.Limit },
                null,
                cancellationToken));
            return [.. rows.Select(r => r.ToRecord())];
        }, cancellationToken);

    public Task<IReadOnlyList<SandboxLifecycleRecord>> ListLifecycleAsync(string id, CancellationToken cancellationToken) =>
        db.ReadAsync<IReadOnlyList<SandboxLifecycleRecord>>(async c =>
        {
            var rows = await c.QueryAsync<LifecycleRow>(Command(
                """
                SELECT id AS Id, sandbox_id AS SandboxId, event_type AS EventType, decision_code AS DecisionCode,
                       worker_run_id AS WorkerRunId, payload AS Payload, created_at AS CreatedAt
                FROM sandbox_lifecycle_events WHERE sandbox_id = @id ORDER BY created_at, seq
                """,
                new { id },
                null,
                cancellationToken));
            return [.. rows.Select(r => new SandboxLifecycleRecord(r.Id, r.SandboxId, r.EventType, r.DecisionCode, r.WorkerRunId, r.Payload, PostgresTime.FromDb(r.CreatedAt)))];
        }, cancellationToken);

    public Task<SandboxRecord?> UpdateAsync(SandboxUpdate update, CancellationToken cancellationToken) =>
        db.WriteAsync(async (c, t) =>
        {
            var row = await c.QuerySingleOrDefaultAsync<Row>(Command(
                $"""
                UPDATE sandboxes SET status = @Status, last_active_at = @At,
                    sandbox_id = COALESCE(@SandboxId, sandbox_id), path = COALESCE(@Path, path), node_id = COALESCE(@NodeId, node_id),
                    error = COALESCE(@Error, error), install_log = COALESCE(@InstallLog, install_log)
                WHERE id = @Id AND status IN {ActiveStatuses}
                RETURNING {Columns}
                """,
                new { update.Id, update.Status, At = PostgresTime.ToDb(update.At), update.SandboxId, update.Path, update.NodeId, update.Error, update.InstallLog },
                t,
                cancellationToken));
            if (row is null)
            {
                return null;
            }

            if (update.Lifecycle is not null)
            {
                await InsertLifecycleAsync(c, t, update.Lifecycle, cancellationToken);
            }

            return row.ToRecord();
        }, cancellationToken);

    public Task<(StopSandboxOutcome Outcome, SandboxRecord? Sandbox)> StopAsync(string id, string? userId, SandboxLifecycleRecord stopped, CancellationToken cancellationToken) =>
        db.WriteAsync<(StopSandboxOutcome, SandboxRecord?)>(async (c, t) =>
        {
            // The row lock serializes concurrent stops and updates of this sandbox across nodes.
            var row = await c.QuerySingleOrDefaultAsync<Row>(Command(
                $"{Select} WHERE id = @id AND (@userId::text IS NULL OR user_id = @userId) FOR UPDATE",
                new { id, userId },
                t,
                cancellationToken));
            if (row is null)
            {
                return (StopSandboxOutcome.NotFound, null);
            }

            if (row.Status == "stopped")
            {
                return (StopSandboxOutcome.AlreadyStopped, row.ToRecord());
            }

            var inUse = await c.ExecuteScalarAsync<bool>(Command(
                "SELECT EXISTS (SELECT 1 FROM runs WHERE sandbox_record_id = @id AND status IN ('pending','streaming'))", new { id }, t, cancellationToken));
            if (inUse)
            {
                return (StopSandboxOutcome.InUse, row.ToRecord());
            }

            var after = await c.QuerySingleAsync<Row>(Command(
                $"UPDATE sandboxes SET status = 'stopped', last_active_at = @at WHERE id = @id RETURNING {Columns}",
                new { id, at = PostgresTime.ToDb(stopped.CreatedAt) },
                t,
                cancellationToken));
            await InsertLifecycleAsync(c, t, stopped, cancellationToken);
            return (StopSandboxOutcome.Stopped, after.ToRecord());
        }, cancellationToken);

    public Task<IReadOnlyList<SandboxRecord>> PruneAsync(DateTimeOffset inactiveBefore, CancellationToken cancellationToken) =>
        db.WriteAsync<IReadOnlyList<SandboxRecord>>(async (c, t) =>
        {
            // A sandbox that is no longer active never becomes active again; the row lock keeps a
            // concurrent prune (another node) off the same rows.
            var rows = (await c.QueryAsync<Row>(Command(
                $"""
                {Select}
                WHERE status NOT IN {ActiveStatuses} AND last_active_at < @before
                  AND NOT EXISTS (SELECT 1 FROM runs WHERE runs.sandbox_record_id = sandboxes.id AND runs.status IN ('pending','streaming'))
                ORDER BY last_active_at, id
                FOR UPDATE SKIP LOCKED
                """,
                new { before = PostgresTime.ToDb(inactiveBefore) },
                t,
                cancellationToken))).ToList();
            var ids = rows.Select(r => r.Id).ToArray();
            await c.ExecuteAsync(Command("DELETE FROM sandbox_lifecycle_events WHERE sandbox_id = ANY(@ids)", new { ids }, t, cancellationToken));
            await c.ExecuteAsync(Command("DELETE FROM sandboxes WHERE id = ANY(@ids)", new { ids }, t, cancellationToken));
            return [.. rows.Select(r => r.ToRecord())];
        }, cancellationToken);

    private static Task<int> InsertLifecycleAsync(NpgsqlConnection c, NpgsqlTransaction t, SandboxLifecycleRecord e, CancellationToken cancellationToken) =>
        c.ExecuteAsync(Command(
            """
            INSERT INTO sandbox_lifecycle_events (id, sandbox_id, event_type, decision_code, worker_run_id, payload, created_at)
            VALUES (@Id, @SandboxRecordId, @EventType, @DecisionCode, @WorkerRunId, @PayloadJson, @CreatedAt)
            """,
            new { e.Id, e.SandboxRecordId, e.EventType, e.DecisionCode, e.WorkerRunId, e.PayloadJson, CreatedAt = PostgresTime.ToDb(e.CreatedAt) },
            t,
            cancellationToken));
}
