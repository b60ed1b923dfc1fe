using Dapper;
using Mogplex.Contracts.Runs;
using Npgsql;
using NpgsqlTypes;
using static Mogplex.Storage.Postgres.PostgresDatabase;

namespace Mogplex.Storage.Postgres.Stores;

internal sealed class PostgresRunStore(PostgresDatabase db, PostgresRunChangeNotifier notifier) : IRunStore
{
    private const string SelectRun = PostgresRunReader.Select;

    /// <summary>The read behind every <c>GET /runs/{id}</c>, mapped by hand.</summary>
    private const string GetRunSql = $"{SelectRun} WHERE id = @runId AND (@userId::text IS NULL OR user_id = @userId)";

    public async Task<CreateRunResult> CreateRunAsync(CreateRunCommand command, CancellationToken cancellationToken)
    {
        var run = command.Run;
        var at = PostgresTime.ToDb(run.CreatedAt);
        var result = await db.WriteAsync<CreateRunResult>(async (c, t) =>
        {
            // The key goes in first, and the unique index decides: a concurrent call with the same
            // key (on any node) blocks on this insert until we commit or roll back, then either does
            // nothing (we won) or goes ahead (we rolled back, e.g. rate limited). Its next statement
            // sees our committed key, so the loser answers with the winner's run.
            var claimed = await c.ExecuteAsync(Command(
                """
                INSERT INTO idempotency_keys (user_id, key, request_hash, run_id, created_at)
                VALUES (@UserId, @Key, @Hash, @RunId, @At)
                ON CONFLICT (user_id, key) DO NOTHING
                """,
                new { run.UserId, Key = command.IdempotencyKey, Hash = command.RequestHash, RunId = run.Id, At = at },
                t,
                cancellationToken));
            if (claimed == 0)
            {
                var existing = await c.QuerySingleAsync<(string RequestHash, string RunId)>(Command(
                    "SELECT request_hash AS RequestHash, run_id AS RunId FROM idempotency_keys WHERE user_id = @UserId AND key = @Key",
                    new { run.UserId, Key = command.IdempotencyKey },
                    t,
                    cancellationToken));
                if (!string.Equals(existing.RequestHash, command.RequestHash, StringComparison.Ordinal))
                {
                    return new CreateRunResult.KeyConflict();
                }

                var original = await PostgresRunReader.QuerySingleAsync(c, Command($"{SelectRun} WHERE id = @RunId", new { existing.RunId }, t, cancellationToken));
                return new CreateRunResult.Replayed(original);
            }

            if (command.StartLimits.Count > 0)
            {
                // Checked and counted under the bucket's lock, in this transaction: a denial rolls
                // back the key too, so the same key can go through later.
                var decision = await PostgresRateLimitStore.AcquireAsync(c, t, command.RateLimitBucket, command.StartLimits, PostgresTime.ToMs(run.CreatedAt), cancellationToken);
                if (!decision.Allowed)
                {
                    return new CreateRunResult.RateLimited(decision);
                }
            }

            var created = await PostgresRunReader.QuerySingleAsync(c, Command(
                $"""
                INSERT INTO runs (id, user_id, repo_id, ai_call_id, harness, status, base_branch, working_branch, create_branch,
                                  root_directory, prompt, conversation_id, workspace_session_id, mode, permission_mode, permissions_json, model, interactive,
                                  created_at, updated_at)
                VALUES (@Id, @UserId, @RepoId, @AiCallId, @Harness, @Status, @BaseBranch, @WorkingBranch, @CreateBranch,
                        @RootDirectory, @Prompt, @ConversationId, @WorkspaceSessionId, @Mode, @PermissionMode, @PermissionsJson, @Model, @Interactive, @At, @At)
                RETURNING {PostgresRunReader.Columns}
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
                    run.CreateBranch,
                    run.RootDirectory,
                    run.Prompt,
                    run.ConversationId,
                    run.WorkspaceSessionId,
                    run.Mode,
                    run.PermissionMode,
                    run.PermissionsJson,
                    run.Model,
                    Interactive = run.Interactive,
                    At = at,
                },
                t,
                cancellationToken));
            await PostgresRunEventLog.AppendAsync(c, t, run.Id, command.InitialEvents, at, cancellationToken);
            await notifier.NotifyInTransactionAsync(c, t, run.Id, cancellationToken);
            await notifier.NotifyInTransactionAsync(c, t, IRunChangeNotifier.QueueKey, cancellationToken);
            return new CreateRunResult.Created(created);
        }, static r => r is not CreateRunResult.RateLimited, cancellationToken);
        if (result is CreateRunResult.Created done)
        {
            notifier.Notify(done.Run.Id);
        }

        return result;
    }

    public Task<RunRecord?> GetRunAsync(string runId, string? userId, CancellationToken cancellationToken) =>
        db.ReadAsync(async c =>
        {
            await using var command = new NpgsqlCommand(GetRunSql, c);
            command.Parameters.Add(new NpgsqlParameter("runId", NpgsqlDbType.Text) { Value = runId });
            command.Parameters.Add(new NpgsqlParameter("userId", NpgsqlDbType.Text) { Value = (object?)userId ?? DBNull.Value });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await PostgresRunReader.Instance.ReadSingleOrDefaultAsync(reader, cancellationToken);
        }, cancellationToken);

    public Task<IReadOnlyList<RunRecord>> ListRunsAsync(RunQuery query, CancellationToken cancellationToken) =>
        db.ReadAsync(c => PostgresRunReader.QueryAsync(c, Command(
            $"""
            {SelectRun}
            WHERE (@UserId::text IS NULL OR user_id = @UserId)
              AND (@RepoId::text IS NULL OR repo_id = @RepoId)
              AND (@Status::text IS NULL OR status = @Status)
              AND (NOT @AwaitingApproval OR (status IN ('pending','streaming') AND EXISTS (SELECT 1 FROM approvals a WHERE a.run_id = runs.id AND a.status = 'pending')))
              AND (NOT @AwaitingInput OR (status IN ('pending','streaming') AND awaiting_input AND NOT EXISTS (SELECT 1 FROM approvals a WHERE a.run_id = runs.id AND a.status = 'pending')))
              AND (@AfterAt::timestamptz IS NULL OR (created_at, id) < (@AfterAt, @AfterId::text COLLATE "C"))
            ORDER BY created_at DESC, id DESC
            LIMIT @Limit
            """,
            new
            {
                query.UserId,
                query.RepoId,
                query.Status,
                query.AwaitingApproval,
                query.AwaitingInput,
                AfterAt = query.After is null ? (DateTimeOffset?)null : PostgresTime.ToDb(query.After.CreatedAt),
                AfterId = query.After?.RunId,
                query.Limit,
            },
            null,
            cancellationToken)), cancellationToken);

    public async Task<RunRecord?> TransitionAsync(RunTransition transition, CancellationToken cancellationToken)
    {
        var updated = await db.WriteAsync(async (c, t) =>
        {
            var at = PostgresTime.ToDb(transition.At);
            var terminal = RunStatuses.IsTerminal(transition.To);

            // Fenced on the expected state (and lease owner): zero rows means the caller lost the race.
            // The UPDATE locks the row, so a concurrent transition of the same run waits and then
            // re-checks this WHERE on the committed row (READ COMMITTED). A terminal run never
            // matches, even when From names its status: the runs_terminal_is_final trigger would
            // otherwise abort with an error instead of a lost race, and a terminal -> same terminal
            // "transition" would still append events.
            var row = await PostgresRunReader.QuerySingleOrDefaultAsync(c, Command(
                $"""
                UPDATE runs SET status = @To, updated_at = @At,
                    finished_at = COALESCE(finished_at, @Finished),
                    started_at = COALESCE(started_at, @Started),
                    error = COALESCE(@Error, error),
                    commit_sha = COALESCE(@Commit, commit_sha),
                    runtime_run_id = COALESCE(@RuntimeRunId, runtime_run_id),
                    sandbox_record_id = COALESCE(@SandboxRecordId, sandbox_record_id),
                    sandbox_id = COALESCE(@SandboxId, sandbox_id),
                    lease_owner = CASE WHEN @Terminal THEN NULL ELSE lease_owner END,
                    lease_expires_at = CASE WHEN @Terminal THEN NULL ELSE lease_expires_at END
                WHERE id = @RunId AND status = ANY(@From)
                  AND status NOT IN ('success', 'failed', 'cancelled')
                  AND (@ExpectedLeaseOwner::text IS NULL OR lease_owner = @ExpectedLeaseOwner)
                  AND (NOT @OnlyIfUnclaimed OR lease_owner IS NULL)
                RETURNING {PostgresRunReader.Columns}
                """,
                new
                {
                    transition.RunId,
                    transition.To,
                    At = at,
                    Terminal = terminal,
                    Finished = terminal ? at : (DateTimeOffset?)null,
                    Started = transition.To == RunStatuses.Streaming ? at : (DateTimeOffset?)null,
                    From = transition.From.ToArray(),
                    transition.ExpectedLeaseOwner,
                    transition.OnlyIfUnclaimed,
                    transition.Error,
                    transition.Commit,
                    transition.RuntimeRunId,
                    transition.SandboxRecordId,
                    transition.SandboxId,
                },
                t,
                cancellationToken));
            if (row is null)
            {
                return null;
            }

            await PostgresRunEventLog.AppendAsync(c, t, transition.RunId, transition.Events, at, cancellationToken);
            await notifier.NotifyInTransactionAsync(c, t, transition.RunId, cancellationToken);
            return row;
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
            var at = PostgresTime.ToDb(now);
            var recorded = await PostgresRunReader.QuerySingleOrDefaultAsync(c, Command(
                $"""
                UPDATE runs SET cancel_requested_at = @at, updated_at = @at
                WHERE id = @runId AND (@userId::text IS NULL OR user_id = @userId)
                  AND status IN ('pending', 'streaming') AND cancel_requested_at IS NULL
                RETURNING {PostgresRunReader.Columns}
                """,
                new { runId, userId, at },
                t,
                cancellationToken));
            if (recorded is not null)
            {
                await PostgresRunEventLog.AppendAsync(c, t, runId, [requestedEvent], at, cancellationToken);
                await notifier.NotifyInTransactionAsync(c, t, runId, cancellationToken);
                return (recorded, true);
            }

            var run = await PostgresRunReader.QuerySingleOrDefaultAsync(c, Command(
                $"{SelectRun} WHERE id = @runId AND (@userId::text IS NULL OR user_id = @userId)", new { runId, userId }, t, cancellationToken));
            return (run, false);
        }, cancellationToken);
        if (result.Item2)
        {
            notifier.Notify(runId);
        }

        return result;
    }
}
