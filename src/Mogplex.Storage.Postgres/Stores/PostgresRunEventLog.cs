using Dapper;
using Npgsql;
using NpgsqlTypes;
using static Mogplex.Storage.Postgres.PostgresDatabase;

namespace Mogplex.Storage.Postgres.Stores;

internal sealed class PostgresRunEventLog(PostgresDatabase db, PostgresRunChangeNotifier notifier) : IRunEventLog
{
    private sealed class Row
    {
        public string Id { get; set; } = "";
        public string RunId { get; set; } = "";
        public long Seq { get; set; }
        public string Type { get; set; } = "";
        public string? ToolName { get; set; }
        public string? Message { get; set; }
        public string? Payload { get; set; }
        public DateTime CreatedAt { get; set; }
    }

    public async Task<IReadOnlyList<RunEventRecord>> AppendAsync(string runId, IReadOnlyList<NewRunEvent> events, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (events.Count == 0)
        {
            return [];
        }

        var stored = await db.WriteAsync(async (c, t) =>
        {
            var appended = await AppendAsync(c, t, runId, events, now, cancellationToken);
            await notifier.NotifyInTransactionAsync(c, t, runId, cancellationToken);
            return appended;
        }, cancellationToken);
        notifier.Notify(runId);
        return stored;
    }

    /// <summary>
    /// Appends inside the caller's transaction. The run row carries the last sequence number and
    /// the UPDATE that advances it locks the row until commit, so concurrent appenders of one run
    /// (on any node) take turns: numbering is gap-free and strictly increasing, and a rolled-back
    /// batch gives its numbers back. The batch goes in as one INSERT over arrays.
    /// </summary>
    internal static async Task<IReadOnlyList<RunEventRecord>> AppendAsync(NpgsqlConnection c, NpgsqlTransaction t, string runId, IReadOnlyList<NewRunEvent> events, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (events.Count == 0)
        {
            return [];
        }

        var last = await c.ExecuteScalarAsync<long?>(Command(
            "UPDATE runs SET last_event_seq = last_event_seq + @n WHERE id = @runId RETURNING last_event_seq",
            new { runId, n = events.Count },
            t,
            cancellationToken)) ?? throw new InvalidOperationException($"Run {runId} does not exist.");
        var at = PostgresTime.ToDb(now);
        var first = last - events.Count + 1;
        var stored = new List<RunEventRecord>(events.Count);
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            stored.Add(new RunEventRecord(Guid.CreateVersion7().ToString(), runId, first + i, e.Type, e.ToolName, e.Message, e.PayloadJson, at));
        }

        await using var insert = new NpgsqlCommand(
            """
            INSERT INTO run_events (run_id, seq, id, type, tool_name, message, payload, created_at)
            SELECT @run, e.seq, e.id, e.type, e.tool_name, e.message, e.payload, @at
            FROM unnest(@seqs, @ids, @types, @tools, @messages, @payloads) AS e(seq, id, type, tool_name, message, payload)
            """,
            c,
            t);
        insert.Parameters.Add(new NpgsqlParameter<string>("run", runId));
        insert.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("at", at));
        insert.Parameters.Add(new NpgsqlParameter<long[]>("seqs", [.. stored.Select(e => e.Seq)]));
        AddTextArray(insert, "ids", stored.Select(e => (string?)e.Id));
        AddTextArray(insert, "types", stored.Select(e => (string?)e.Type));
        AddTextArray(insert, "tools", stored.Select(e => e.ToolName));
        AddTextArray(insert, "messages", stored.Select(e => e.Message));
        AddTextArray(insert, "payloads", stored.Select(e => e.PayloadJson));
        await insert.ExecuteNonQueryAsync(cancellationToken);
        return stored;
    }

    public Task<IReadOnlyList<RunEventRecord>> ListAsync(string runId, long afterSeq, int limit, CancellationToken cancellationToken) =>
        db.ReadAsync<IReadOnlyList<RunEventRecord>>(async c =>
        {
            var rows = await c.QueryAsync<Row>(Command(
                """
                SELECT id AS Id, run_id AS RunId, seq AS Seq, type AS Type, tool_name AS ToolName, message AS Message,
                       payload AS Payload, created_at AS CreatedAt
                FROM run_events WHERE run_id = @runId AND seq > @afterSeq ORDER BY seq LIMIT @limit
                """,
                new { runId, afterSeq, limit },
                null,
                cancellationToken));
            return [.. rows.Select(r => new RunEventRecord(r.Id, r.RunId, r.Seq, r.Type, r.ToolName, r.Message, r.Payload, PostgresTime.FromDb(r.CreatedAt)))];
        }, cancellationToken);

    public Task<long?> FindSeqAsync(string runId, string eventId, CancellationToken cancellationToken) =>
        db.ReadAsync(c => c.ExecuteScalarAsync<long?>(Command(
            "SELECT seq FROM run_events WHERE id = @eventId AND run_id = @runId", new { runId, eventId }, null, cancellationToken)), cancellationToken);

    public Task<IReadOnlyList<PrunedRun>> PruneAsync(DateTimeOffset finishedBefore, int maxRuns, CancellationToken cancellationToken) =>
        db.WriteAsync<IReadOnlyList<PrunedRun>>(async (c, t) =>
        {
            // Locked, and skipped when locked: two prunes at once (from two nodes) split the work.
            var runs = await c.QueryAsync<(string Id, string Status, DateTime FinishedAt)>(Command(
                """
                SELECT id, status, finished_at FROM runs
                WHERE status IN ('success','failed','cancelled') AND finished_at < @before
                  AND EXISTS (SELECT 1 FROM run_events e WHERE e.run_id = runs.id)
                ORDER BY finished_at, id LIMIT @maxRuns
                FOR UPDATE SKIP LOCKED
                """,
                new { before = PostgresTime.ToDb(finishedBefore), maxRuns },
                t,
                cancellationToken));
            var pruned = new List<PrunedRun>();
            foreach (var run in runs)
            {
                var removed = await c.ExecuteAsync(Command("DELETE FROM run_events WHERE run_id = @Id", new { run.Id }, t, cancellationToken));
                pruned.Add(new PrunedRun(run.Id, run.Status, PostgresTime.FromDb(run.FinishedAt), removed));
            }

            return pruned;
        }, cancellationToken);

    private static void AddTextArray(NpgsqlCommand command, string name, IEnumerable<string?> values) =>
        command.Parameters.Add(new NpgsqlParameter(name, NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = values.ToArray() });
}
