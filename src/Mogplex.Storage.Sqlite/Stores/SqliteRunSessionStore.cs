using Dapper;

namespace Mogplex.Storage.Sqlite.Stores;

internal sealed class SqliteRunSessionStore(SqliteDatabase db, IRunChangeNotifier notifier) : IRunSessionStore
{
    private sealed class Row
    {
        public string Id { get; set; } = "";
        public string RunId { get; set; } = "";
        public string Kind { get; set; } = "";
        public string? Text { get; set; }
        public string? Mode { get; set; }
        public string? ClientKey { get; set; }
        public long CreatedAt { get; set; }
        public long? TakenAt { get; set; }
        public long Seq { get; set; }

        public RunInputRecord ToRecord() => new()
        {
            Id = Id,
            RunId = RunId,
            Kind = Kind,
            Text = Text,
            Mode = Mode,
            ClientKey = ClientKey,
            CreatedAt = SqliteTime.FromMs(CreatedAt),
            TakenAt = SqliteTime.FromMs(TakenAt),
        };
    }

    public async Task<(AddRunInputOutcome Outcome, RunInputRecord? Input)> AddInputAsync(RunInputRecord input, string? userId, IReadOnlyList<NewRunEvent> events, CancellationToken cancellationToken)
    {
        var outcome = await db.WriteAsync<(AddRunInputOutcome, RunInputRecord?)>(async (c, t) =>
        {
            var run = await c.QuerySingleOrDefaultAsync<(string Status, long Interactive)?>(
                "SELECT status, interactive FROM runs WHERE id = @RunId AND (@userId IS NULL OR user_id = @userId)",
                new { input.RunId, userId },
                t);
            if (run is not { } found)
            {
                return (AddRunInputOutcome.NotFound, null);
            }

            if (found.Interactive == 0)
            {
                return (AddRunInputOutcome.NotInteractive, null);
            }

            if (input.ClientKey is not null && (await c.QuerySingleOrDefaultAsync<Row>("SELECT id AS Id, run_id AS RunId, kind AS Kind, text AS Text, mode AS Mode, client_key AS ClientKey, created_at AS CreatedAt, taken_at AS TakenAt, seq AS Seq FROM run_inputs WHERE run_id = @RunId AND client_key = @ClientKey", new { input.RunId, input.ClientKey }, t))?.ToRecord() is { } earlier)
            {
                return earlier.Kind == input.Kind && earlier.Text == input.Text && earlier.Mode == input.Mode
                    ? (AddRunInputOutcome.Replayed, earlier)
                    : (AddRunInputOutcome.KeyConflict, earlier);
            }

            if (found.Status is not ("pending" or "streaming"))
            {
                return (AddRunInputOutcome.Terminal, null);
            }

            var at = SqliteTime.ToMs(input.CreatedAt);
            await c.ExecuteAsync(
                """
                INSERT INTO run_inputs (id, run_id, seq, kind, text, mode, client_key, created_at)
                VALUES (@Id, @RunId, (SELECT COALESCE(MAX(seq), 0) + 1 FROM run_inputs WHERE run_id = @RunId), @Kind, @Text, @Mode, @ClientKey, @at)
                """,
                new { input.Id, input.RunId, input.Kind, input.Text, input.Mode, input.ClientKey, at },
                t);
            await SqliteRunEventLog.AppendAsync(c, t, input.RunId, events, at);
            return (AddRunInputOutcome.Added, input);
        }, cancellationToken);
        if (outcome.Item1 == AddRunInputOutcome.Added)
        {
            notifier.Notify(input.RunId);
        }

        return outcome;
    }

    public async Task<IReadOnlyList<RunInputRecord>> TakeInputsAsync(string runId, DateTimeOffset at, CancellationToken cancellationToken) =>
        // Looked for with a read first: the watcher asks on every change of the run (each event
        // batch), and the one writer is not taken for nothing.
        !await db.ReadAsync(c => c.ExecuteScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM run_inputs WHERE run_id = @runId AND taken_at IS NULL)", new { runId }), cancellationToken)
            ? []
            : await db.WriteAsync<IReadOnlyList<RunInputRecord>>(async (c, t) =>
        {
            // RETURNING gives no order: the seq does.
            var rows = await c.QueryAsync<Row>(
                """
                UPDATE run_inputs SET taken_at = @at WHERE run_id = @runId AND taken_at IS NULL
                RETURNING id AS Id, run_id AS RunId, kind AS Kind, text AS Text, mode AS Mode, client_key AS ClientKey, created_at AS CreatedAt, taken_at AS TakenAt, seq AS Seq
                """,
                new { runId, at = SqliteTime.ToMs(at) },
                t);
            return [.. rows.OrderBy(r => r.Seq).Select(r => r.ToRecord())];
        }, cancellationToken);

    public async Task<bool> UpdateAsync(RunSessionUpdate update, CancellationToken cancellationToken)
    {
        var updated = await db.WriteAsync(async (c, t) =>
        {
            var at = SqliteTime.ToMs(update.At);
            var changed = await c.ExecuteAsync(
                """
                UPDATE runs SET
                    awaiting_input = COALESCE(@Awaiting, awaiting_input),
                    turns = turns + @TurnsStarted,
                    harness_session = COALESCE(@HarnessSession, harness_session),
                    start_commit = COALESCE(@StartCommit, start_commit),
                    updated_at = @at
                WHERE id = @RunId AND lease_owner = @Owner AND status IN ('pending','streaming')
                """,
                new { Awaiting = update.AwaitingInput is { } a ? (a ? 1 : 0) : (int?)null, update.TurnsStarted, update.HarnessSession, update.StartCommit, at, update.RunId, update.Owner },
                t);
            if (changed == 1)
            {
                await SqliteRunEventLog.AppendAsync(c, t, update.RunId, update.Events, at);
            }

            return changed == 1;
        }, cancellationToken);
        if (updated)
        {
            notifier.Notify(update.RunId);
        }

        return updated;
    }

    public async Task<bool> ReleaseAsync(string runId, string owner, DateTimeOffset at, IReadOnlyList<NewRunEvent> events, CancellationToken cancellationToken)
    {
        var released = await db.WriteAsync(async (c, t) =>
        {
            var ms = SqliteTime.ToMs(at);
            var changed = await c.ExecuteAsync(
                "UPDATE runs SET lease_owner = NULL, lease_expires_at = NULL, updated_at = @ms WHERE id = @runId AND lease_owner = @owner AND status = 'streaming' AND interactive = 1",
                new { runId, owner, ms },
                t);
            if (changed == 1)
            {
                await SqliteRunEventLog.AppendAsync(c, t, runId, events, ms);
            }

            return changed == 1;
        }, cancellationToken);
        if (released)
        {
            notifier.Notify(runId);
        }

        return released;
    }
}
