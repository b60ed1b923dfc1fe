using System.Globalization;
using Dapper;
using Mogplex.Contracts.Runs;

namespace Mogplex.Storage.Sqlite.Stores;

internal sealed class SqliteRunStore(SqliteDatabase db, IRunChangeNotifier notifier) : IRunStore
{
    private const string SelectRun = SqliteRunReader.Select;

    /// <summary>The read behind every <c>GET /runs/{id}</c>: compiled once per kept connection, mapped by hand.</summary>
    private static readonly SqliteStatement s_getRun = new($"{SelectRun} WHERE id = @runId AND (@userId IS NULL OR user_id = @userId)", "@runId", "@userId");

    public async Task<CreateRunResult> CreateRunAsync(CreateRunCommand command, CancellationToken cancellationToken)
    {
        var run = command.Run;
        var result = await db.WriteAsync<CreateRunResult>(async (c, t) =>
        {
            // The whole decision runs inside one BEGIN IMMEDIATE transaction: no other writer can
            // slip between the key lookup and the insert. The primary key on (user_id, key) is the
            // last word should anything else write the table.
            var existing = await c.QuerySingleOrDefaultAsync<(string RequestHash, string RunId)>(
                "SELECT request_hash AS RequestHash, run_id AS RunId FROM idempotency_keys WHERE user_id = @UserId AND key = @Key",
                new { run.UserId, Key = command.IdempotencyKey },
                t);
            if (existing.RunId is not null)
            {
                if (!string.Equals(existing.RequestHash, command.RequestHash, StringComparison.Ordinal))
                {
                    return new CreateRunResult.KeyConflict();
                }

                var original = await SqliteRunReader.QuerySingleAsync(c, $"{SelectRun} WHERE id = @RunId", new { existing.RunId }, t);
                return new CreateRunResult.Replayed(original);
            }

            var nowMs = SqliteTime.ToMs(run.CreatedAt);
            if (command.StartLimits.Count > 0)
            {
                var decision = await SqliteRateLimitStore.AcquireAsync(c, t, command.RateLimitBucket, command.StartLimits, nowMs);
                if (!decision.Allowed)
                {
                    return new CreateRunResult.RateLimited(decision);
                }
            }

            await c.ExecuteAsync(
                """
                INSERT INTO runs (id, user_id, repo_id, ai_call_id, harness, status, base_branch, working_branch, create_branch,
                                  root_directory, prompt, conversation_id, workspace_session_id, mode, permission_mode, permissions_json, model, interactive,
                                  created_at, updated_at)
                VALUES (@Id, @UserId, @RepoId, @AiCallId, @Harness, @Status, @BaseBranch, @WorkingBranch, @CreateBranch,
                        @RootDirectory, @Prompt, @ConversationId, @WorkspaceSessionId, @Mode, @PermissionMode, @PermissionsJson, @Model, @Interactive, @At, @At)
                """,
                new
                {
                    run.Id,
                    run.UserId,
                    run.RepoId,
                    run.AiCallId,
                    run.Harness,
                    run.Status,
                    run.BaseBranch,
                    run.WorkingBranch,
                    CreateBranch = run.CreateBranch ? 1 : 0,
                    run.RootDirectory,
                    run.Prompt,
                    run.ConversationId,
                    run.WorkspaceSessionId,
                    run.Mode,
                    run.PermissionMode,
                    run.PermissionsJson,
                    run.Model,
                    Interactive = run.Interactive ? 1 : 0,
                    At = nowMs,
                },
                t);
            await c.ExecuteAsync(
                "INSERT INTO idempotency_keys (user_id, key, request_hash, run_id, created_at) VALUES (@UserId, @Key, @Hash, @RunId, @At)",
                new { run.UserId, Key = command.IdempotencyKey, Hash = command.RequestHash, RunId = run.Id, At = nowMs },
                t);
            await SqliteRunEventLog.AppendAsync(c, t, run.Id, command.InitialEvents, nowMs);
            var created = await SqliteRunReader.QuerySingleAsync(c, $"{SelectRun} WHERE id = @Id", new { run.Id }, t);
            return new CreateRunResult.Created(created);
        }, cancellationToken);
        if (result is CreateRunResult.Created created)
        {
            notifier.Notify(created.Run.Id);
        }

        return result;
    }

    public Task<RunRecord?> GetRunAsync(string runId, string? userId, CancellationToken cancellationToken) =>
        db.ReadPreparedAsync(s_getRun, async command =>
        {
            command.Parameters[0].Value = runId;
            command.Parameters[1].Value = (object?)userId ?? DBNull.Value;
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await SqliteRunReader.Instance.ReadSingleOrDefaultAsync(reader, cancellationToken);
        }, cancellationToken);

    public Task<IReadOnlyList<RunRecord>> ListRunsAsync(RunQuery query, CancellationToken cancellationToken) =>
        db.ReadAsync(c => SqliteRunReader.QueryAsync(
            c,
            $"""
            {SelectRun}
            WHERE (@UserId IS NULL OR user_id = @UserId)
              AND (@RepoId IS NULL OR repo_id = @RepoId)
              AND (@Status IS NULL OR status = @Status)
              AND (@AwaitingApproval = 0 OR (status IN ('pending','streaming') AND EXISTS (SELECT 1 FROM approvals a WHERE a.run_id = runs.id AND a.status = 'pending')))
              AND (@AwaitingInput = 0 OR (status IN ('pending','streaming') AND awaiting_input = 1 AND NOT EXISTS (SELECT 1 FROM approvals a WHERE a.run_id = runs.id AND a.status = 'pending')))
              AND (@AfterAt IS NULL OR created_at < @AfterAt OR (created_at = @AfterAt AND id < @AfterId))
            ORDER BY created_at DESC, id DESC
            LIMIT @Limit
            """,
            new
            {
                query.UserId,
                query.RepoId,
                query.Status,
                AwaitingApproval = query.AwaitingApproval ? 1 : 0,
                AwaitingInput = query.AwaitingInput ? 1 : 0,
                AfterAt = query.After is null ? (long?)null : SqliteTime.ToMs(query.After.CreatedAt),
                AfterId = query.After?.RunId,
                query.Limit,
            }), cancellationToken);

    public async Task<RunRecord?> TransitionAsync(RunTransition transition, CancellationToken cancellationToken)
    {
        var updated = await db.WriteAsync(async (c, t) =>
        {
            var atMs = SqliteTime.ToMs(transition.At);
            var terminal = RunStatuses.IsTerminal(transition.To);
            var parameters = new DynamicParameters(new
            {
                transition.RunId,
                transition.To,
                At = atMs,
                Finished = terminal ? atMs : (long?)null,
                Started = transition.To == RunStatuses.Streaming ? atMs : (long?)null,
                transition.ExpectedLeaseOwner,
                OnlyIfUnclaimed = transition.OnlyIfUnclaimed ? 1 : 0,
                transition.Error,
                transition.Commit,
                transition.RuntimeRunId,
                transition.SandboxRecordId,
                transition.SandboxId,
            });
            var fromNames = new List<string>();
            for (var i = 0; i < transition.From.Count; i++)
            {
                parameters.Add("From" + i.ToString(CultureInfo.InvariantCulture), transition.From[i]);
                fromNames.Add("@From" + i.ToString(CultureInfo.InvariantCulture));
            }

            // Fenced on the expected state (and lease owner): zero rows means the caller lost the race.
            // A terminal run never matches, even when From names its status: the runs_terminal_is_final
            // trigger would otherwise abort the statement with an exception instead of a lost race,
            // and a terminal -> same terminal "transition" would still append events.
            var rows = await c.ExecuteAsync(
                $"""
                UPDATE runs SET status = @To, updated_at = @At,
                    finished_at = COALESCE(finished_at, @Finished),
                    started_at = COALESCE(started_at, @Started),
                    error = COALESCE(@Error, error),
                    commit_sha = COALESCE(@Commit, commit_sha),
                    runtime_run_id = COALESCE(@RuntimeRunId, runtime_run_id),
                    sandbox_record_id = COALESCE(@SandboxRecordId, sandbox_record_id),
                    sandbox_id = COALESCE(@SandboxId, sandbox_id),
                    lease_owner = CASE WHEN @Finished IS NULL THEN lease_owner END,
                    lease_expires_at = CASE WHEN @Finished IS NULL THEN lease_expires_at END
                WHERE id = @RunId AND status IN ({string.Join(", ", fromNames)})
                  AND status NOT IN ('success', 'failed', 'cancelled')
                  AND (@ExpectedLeaseOwner IS NULL OR lease_owner = @ExpectedLeaseOwner)
                  AND (@OnlyIfUnclaimed = 0 OR lease_owner IS NULL)
                """,
                parameters,
                t);
            if (rows == 0)
            {
                return null;
            }

            await SqliteRunEventLog.AppendAsync(c, t, transition.RunId, transition.Events, atMs);
            return await SqliteRunReader.QuerySingleAsync(c, $"{SelectRun} WHERE id = @RunId", new { transition.RunId }, t);
        }, cancellationToken);
        if (updated is not null)
        {
            notifier.Notify(transition.RunId);
        }

        return updated;
    }

    public async Task<(RunRecord? Run, bool Recorded)> RequestCancelAsync(string runId, string? userId, NewRunEvent requestedEvent, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var result = await db.WriteAsync(async (c, t) =>
        {
            var atMs = SqliteTime.ToMs(now);
            var rows = await c.ExecuteAsync(
                """
                UPDATE runs SET cancel_requested_at = @atMs, updated_at = @atMs
                WHERE id = @runId AND (@userId IS NULL OR user_id = @userId)
                  AND status IN ('pending', 'streaming') AND cancel_requested_at IS NULL
                """,
                new { runId, userId, atMs },
                t);
            if (rows > 0)
            {
                await SqliteRunEventLog.AppendAsync(c, t, runId, [requestedEvent], atMs);
            }

            var run = await SqliteRunReader.QuerySingleOrDefaultAsync(
                c, $"{SelectRun} WHERE id = @runId AND (@userId IS NULL OR user_id = @userId)", new { runId, userId }, t);
            return (run, rows > 0);
        }, cancellationToken);
        if (result.Item2)
        {
            notifier.Notify(runId);
        }

        return result;
    }
}
