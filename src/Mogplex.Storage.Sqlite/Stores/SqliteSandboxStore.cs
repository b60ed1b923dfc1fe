using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;

namespace Mogplex.Storage.Sqlite.Stores;

internal sealed class SqliteSandboxStore(SqliteDatabase db) : ISandboxStore
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
        public long CreatedAt { get; set; }
        public long LastActiveAt { get; set; }

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
            CreatedAt = SqliteTime.FromMs(CreatedAt),
            LastActiveAt = SqliteTime.FromMs(LastActiveAt),
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
        public long CreatedAt { get; set; }
    }

    private const string Select =
        "SELECT id AS Id, sandbox_id AS SandboxId, user_id AS UserId, repo_id AS RepoId, status AS Status, base_branch AS BaseBranch, " +
        "working_branch AS WorkingBranch, root_directory AS RootDirectory, preview_url AS PreviewUrl, node_id AS NodeId, path AS Path, " +
        "error AS Error, install_log AS InstallLog, dev_log AS DevLog, created_at AS CreatedAt, last_active_at AS LastActiveAt FROM sandboxes";

    private const string ActiveStatuses = "('creating','installing','running','pausing','paused')";

    public Task<(SandboxRecord Sandbox, bool Reused)> CreateOrReuseAsync(SandboxRecord candidate, SandboxLifecycleRecord created, CancellationToken cancellationToken) =>
        db.WriteAsync(async (c, t) =>
        {
            var active = await c.QuerySingleOrDefaultAsync<Row>(
                $"{Select} WHERE user_id = @UserId AND repo_id = @RepoId AND working_branch = @WorkingBranch AND root_directory = @RootDirectory AND status IN {ActiveStatuses}",
                new { candidate.UserId, candidate.RepoId, candidate.WorkingBranch, candidate.RootDirectory },
                t);
            if (active is not null)
            {
                return (active.ToRecord(), true);
            }

            await c.ExecuteAsync(
                """
                INSERT INTO sandboxes (id, sandbox_id, user_id, repo_id, status, base_branch, working_branch, root_directory, node_id, path, created_at, last_active_at)
                VALUES (@Id, @SandboxId, @UserId, @RepoId, @Status, @BaseBranch, @WorkingBranch, @RootDirectory, @NodeId, @Path, @CreatedAt, @CreatedAt)
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
                    CreatedAt = SqliteTime.ToMs(candidate.CreatedAt),
                },
                t);
            await InsertLifecycleAsync(c, t, created);
            return (candidate with { LastActiveAt = candidate.CreatedAt }, false);
        }, cancellationToken);

    public Task<SandboxRecord?> GetAsync(string id, string? userId, CancellationToken cancellationToken) =>
        db.ReadAsync(async c => (await c.QuerySingleOrDefaultAsync<Row>(
            $"{Select} WHERE id = @id AND (@userId IS NULL OR user_id = @userId)", new { id, userId }))?.ToRecord(), cancellationToken);

    public Task<IReadOnlyList<SandboxRecord>> ListAsync(SandboxQuery query, CancellationToken cancellationToken) =>
        db.ReadAsync<IReadOnlyList<SandboxRecord>>(async c =>
        {
            var rows = await c.QueryAsync<Row>(
                $"""
                {Select}
                WHERE (@UserId IS NULL OR user_id = @UserId) AND (@RepoId IS NULL OR repo_id = @RepoId) AND (@Status IS NULL OR status = @Status)
                ORDER BY last_active_at DESC, id DESC LIMIT @Limit
                """,
                new { query.UserId, query.RepoId, query.Status, query.Limit });
            return [.. rows.Select(r => r.ToRecord())];
        }, cancellationToken);

    public Task<IReadOnlyList<SandboxLifecycleRecord>> ListLifecycleAsync(string id, CancellationToken cancellationToken) =>
        db.ReadAsync<IReadOnlyList<SandboxLifecycleRecord>>(async c =>
        {
            var rows = await c.QueryAsync<LifecycleRow>(
                """
                SELECT id AS Id, sandbox_id AS SandboxId, event_type AS EventType, decision_code AS DecisionCode,
                       worker_run_id AS WorkerRunId, payload AS Payload, created_at AS CreatedAt
                FROM sandbox_lifecycle_events WHERE sandbox_id = @id ORDER BY created_at, rowid
                """,
                new { id });
            return [.. rows.Select(r => new SandboxLifecycleRecord(r.Id, r.SandboxId, r.EventType, r.DecisionCode, r.WorkerRunId, r.Payload, SqliteTime.FromMs(r.CreatedAt)))];
        }, cancellationToken);

    public Task<SandboxRecord?> UpdateAsync(SandboxUpdate update, CancellationToken cancellationToken) =>
        db.WriteAsync(async (c, t) =>
        {
            var rows = await c.ExecuteAsync(
                $"""
                UPDATE sandboxes SET status = @Status, last_active_at = @At,
                    sandbox_id = COALESCE(@SandboxId, sandbox_id), path = COALESCE(@Path, path), node_id = COALESCE(@NodeId, node_id),
                    error = COALESCE(@Error, error), install_log = COALESCE(@InstallLog, install_log)
                WHERE id = @Id AND status IN {ActiveStatuses}
                """,
                new { update.Id, update.Status, At = SqliteTime.ToMs(update.At), update.SandboxId, update.Path, update.NodeId, update.Error, update.InstallLog },
                t);
            if (rows == 0)
            {
                return null;
            }

            if (update.Lifecycle is not null)
            {
                await InsertLifecycleAsync(c, t, update.Lifecycle);
            }

            return (await c.QuerySingleAsync<Row>($"{Select} WHERE id = @Id", new { update.Id }, t)).ToRecord();
        }, cancellationToken);

    public Task<(StopSandboxOutcome Outcome, SandboxRecord? Sandbox)> StopAsync(string id, string? userId, SandboxLifecycleRecord stopped, CancellationToken cancellationToken) =>
        db.WriteAsync<(StopSandboxOutcome, SandboxRecord?)>(async (c, t) =>
        {
            var row = await c.QuerySingleOrDefaultAsync<Row>($"{Select} WHERE id = @id AND (@userId IS NULL OR user_id = @userId)", new { id, userId }, t);
            if (row is null)
            {
                return (StopSandboxOutcome.NotFound, null);
            }

            if (row.Status == "stopped")
            {
                return (StopSandboxOutcome.AlreadyStopped, row.ToRecord());
            }

            var inUse = await c.ExecuteScalarAsync<long>(
                "SELECT count(*) FROM runs WHERE sandbox_record_id = @id AND status IN ('pending','streaming')", new { id }, t);
            if (inUse > 0)
            {
                return (StopSandboxOutcome.InUse, row.ToRecord());
            }

            await c.ExecuteAsync(
                "UPDATE sandboxes SET status = 'stopped', last_active_at = @at WHERE id = @id",
                new { id, at = SqliteTime.ToMs(stopped.CreatedAt) },
                t);
            await InsertLifecycleAsync(c, t, stopped);
            return (StopSandboxOutcome.Stopped, (await c.QuerySingleAsync<Row>($"{Select} WHERE id = @id", new { id }, t)).ToRecord());
        }, cancellationToken);

    public Task<IReadOnlyList<SandboxRecord>> PruneAsync(DateTimeOffset inactiveBefore, CancellationToken cancellationToken) =>
        db.WriteAsync<IReadOnlyList<SandboxRecord>>(async (c, t) =>
        {
            var rows = (await c.QueryAsync<Row>(
                $"""
                {Select}
                WHERE status NOT IN {ActiveStatuses} AND last_active_at < @before
                  AND NOT EXISTS (SELECT 1 FROM runs WHERE runs.sandbox_record_id = sandboxes.id AND runs.status IN ('pending','streaming'))
                ORDER BY last_active_at, id
                """,
                new { before = SqliteTime.ToMs(inactiveBefore) },
                t)).ToList();
            foreach (var row in rows)
            {
                await c.ExecuteAsync("DELETE FROM sandbox_lifecycle_events WHERE sandbox_id = @Id", new { row.Id }, t);
                await c.ExecuteAsync("DELETE FROM sandboxes WHERE id = @Id", new { row.Id }, t);
            }

            return [.. rows.Select(r => r.ToRecord())];
        }, cancellationToken);

    private static Task<int> InsertLifecycleAsync(SqliteConnection c, DbTransaction t, SandboxLifecycleRecord e) =>
        c.ExecuteAsync(
            """
            INSERT INTO sandbox_lifecycle_events (id, sandbox_id, event_type, decision_code, worker_run_id, payload, created_at)
            VALUES (@Id, @SandboxRecordId, @EventType, @DecisionCode, @WorkerRunId, @PayloadJson, @CreatedAt)
            """,
            new { e.Id, e.SandboxRecordId, e.EventType, e.DecisionCode, e.WorkerRunId, e.PayloadJson, CreatedAt = SqliteTime.ToMs(e.CreatedAt) },
            t);
}
