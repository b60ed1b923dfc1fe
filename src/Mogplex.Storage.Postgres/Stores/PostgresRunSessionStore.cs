using Dapper;
using static Mogplex.Storage.Postgres.PostgresDatabase;

namespace Mogplex.Storage.Postgres.Stores;

internal sealed class PostgresRunSessionStore(PostgresDatabase db, PostgresRunChangeNotifier notifier) : IRunSessionStore
{
    private sealed class Row
    {
        public string Id { get; set; } = "";
        public string RunId { get; set; } = "";
        public string Kind { get; set; } = "";
        public string? Text { get; set; }
        public string? Mode { get; set; }
        public string? ClientKey { get; set; }
        public DateTime CreatedAt { get; set; }
        public DateTime? TakenAt { get; set; }
        public long Seq { get; set; }

        public RunInputRecord ToRecord() => new()
        {
            Id = Id,
            RunId = RunId,
            Kind = Kind,
            Text = Text,
            Mode = Mode,
            ClientKey = ClientKey,
            CreatedAt = PostgresTime.FromDb(CreatedAt),
            TakenAt = PostgresTime.FromDb(TakenAt),
        };
    }

    public async Task<(AddRunInputOutcome Outcome, RunInputRecord? Input)> AddInputAsync(RunInputRecord input, string? userId, IReadOnlyList<NewRunEvent> events, CancellationToken cancellationToken)
    {
        var outcome = await db.WriteAsync<(AddRunInputOutcome, RunInputRecord?)>(async (c, t) =>
        {
            // The run's row lock orders concurrent inputs of one run (their seq) and a concurrent end.
            var run = await c.QuerySingleOrDefaultAsync<(string Status, bool Interactive)?>(Command(
                "SELECT status, interactive FROM runs WHERE id = @RunId AND (@userId::text IS NULL OR user_id = @userId) FOR UPDATE",
                new { input.RunId, userId },
                t,
                cancellationToken));
            if (run is not { } found)
            {
                return (AddRunInputOutcome.NotFound, null);
            }

            if (!found.Interactive)
            {
                return (AddRunInputOutcome.NotInteractive, null);
            }

            if (input.ClientKey is not null && (await c.QuerySingleOrDefaultAsync<Row>(Command("SELECT id AS Id, run_id AS RunId, kind AS Kind, text AS Text, mode AS Mode, client_key AS ClientKey, created_at AS CreatedAt, taken_at AS TakenAt, seq AS Seq FROM run_inputs WHERE run_id = @RunId AND client_key = @ClientKey", new { input.RunId, input.ClientKey }, t, cancellationToken)))?.ToRecord() is { } earlier)
            {
                return earlier.Kind == input.Kind && earlier.Text == input.Text && earlier.Mode == input.Mode
                    ? (AddRunInputOutcome.Replayed, earlier)
                    : (AddRunInputOutcome.KeyConflict, earlier);
            }

            if (found.Status is not ("pending" or "streaming"))
            {
                return (AddRunInputOutcome.Terminal, null);
            }

            await c.ExecuteAsync(Command(
                """
                INSERT INTO run_inputs (id, run_id, seq, kind, text, mode, client_key, created_at)
                VALUES (@Id, @RunId, (SELECT COALESCE(MAX(seq), 0) + 1 FROM run_inputs WHERE run_id = @RunId), @Kind, @Text, @Mode, @ClientKey, @at)
                """,
                new { input.Id, input.RunId, input.Kind, input.Text, input.Mode, input.ClientKey, at = PostgresTime.ToDb(input.CreatedAt) },
                t,
                cancellationToken));
            await PostgresRunEventLog.AppendAsync(c, t, input.RunId, events, input.CreatedAt, cancellationToken);
            await notifier.NotifyInTransactionAsync(c, t, input.RunId, cancellationToken);
            return (AddRunInputOutcome.Added, input);
        }, cancellationToken);
        if (outcome.Item1 == AddRunInputOutcome.Added)
        {
            notifier.Notify(input.RunId);
        }

        return outcome;
    }

    public async Task<IReadOnlyList<RunInputRecord>> TakeInputsAsync(string runId, DateTimeOffset at, CancellationToken cancellationToken) =>
        // Looked for with a read first: the watcher asks on every change of the run (each event batch).
        !await db.ReadAsync(c => c.ExecuteScalarAsync<bool>(Command("SELECT EXISTS (SELECT 1 FROM run_inputs WHERE run_id = @runId AND taken_at IS NULL)", new { runId }, null, cancellationToken)), cancellationToken)
            ? []
            : await db.WriteAsync<IReadOnlyList<RunInputRecord>>(async (c, t) =>
            [.. (await c.QueryAsync<Row>(Command(
                """
                UPDATE run_inputs SET taken_at = @at WHERE run_id = @runId AND taken_at IS NULL
                RETURNING id AS Id, run_id AS RunId, kind AS Kind, text AS Text, mode AS Mode, client_key AS ClientKey, created_at AS CreatedAt, taken_at AS TakenAt, seq AS Seq
                """,
                new { runId, at = PostgresTime.ToDb(at) },
                t,
                cancellationToken))).OrderBy(r => r.Seq).Select(r => r.ToRecord())],
            cancellationToken);

    public async Task<bool> UpdateAsync(RunSessionUpdate update, CancellationToken cancellationToken)
    {
        var updated = await db.WriteAsync(async (c, t) =>
        {
            var changed = await c.ExecuteAsync(Command(
                """
                UPDATE runs SET
                    awaiting_input = COALESCE(@Awaiting, awaiting_input),
                    turns = turns + @TurnsStarted,
                    harness_session = COALESCE(@HarnessSession, harness_session),
                    start_commit = COALESCE(@StartCommit, start_commit),
                    updated_at = @at
                WHERE id = @RunId AND lease_owner = @Owner AND status IN ('pending','streaming')
                """,
                new { Awaiting = update.AwaitingInput, update.TurnsStarted, update.HarnessSession, update.StartCommit, at = PostgresTime.ToDb(update.At), update.RunId, update.Owner },
                t,
                cancellationToken));
            if (changed == 1)
            {
                await PostgresRunEventLog.AppendAsync(c, t, update.RunId, update.Events, update.At, cancellationToken);
                await notifier.NotifyInTransactionAsync(c, t, update.RunId, cancellationToken);
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
            var changed = await c.ExecuteAsync(Command(
                "UPDATE runs SET lease_owner = NULL, lease_expires_at = NULL, updated_at = @at WHERE id = @runId AND lease_owner = @owner AND status = 'streaming' AND interactive",
                new { runId, owner, at = PostgresTime.ToDb(at) },
                t,
                cancellationToken));
            if (changed == 1)
            {
                await PostgresRunEventLog.AppendAsync(c, t, runId, events, at, cancellationToken);
                await notifier.NotifyInTransactionAsync(c, t, runId, cancellationToken);
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
