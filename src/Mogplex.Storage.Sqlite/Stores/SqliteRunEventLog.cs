using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;

namespace Mogplex.Storage.Sqlite.Stores;

internal sealed class SqliteRunEventLog(SqliteDatabase db, IRunChangeNotifier notifier) : IRunEventLog
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
        public long CreatedAt { get; set; }
    }

    public async Task<IReadOnlyList<RunEventRecord>> AppendAsync(string runId, IReadOnlyList<NewRunEvent> events, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (events.Count == 0)
        {
            return [];
        }

        var stored = await db.WriteAsync((c, t) => AppendAsync(c, t, runId, events, SqliteTime.ToMs(now)), cancellationToken);
        notifier.Notify(runId);
        return stored;
    }

    /// <summary>
    /// Appends inside the caller's write transaction. The run row carries the last sequence number,
    /// so numbering is gap-free and strictly increasing even across batches and processes.
    /// </summary>
    internal static async Task<IReadOnlyList<RunEventRecord>> AppendAsync(SqliteConnection c, DbTransaction t, string runId, IReadOnlyList<NewRunEvent> events, long nowMs)
    {
        var last = await c.ExecuteScalarAsync<long?>(
            "UPDATE runs SET last_event_seq = last_event_seq + @n WHERE id = @runId RETURNING last_event_seq",
            new { runId, n = events.Count },
            t) ?? throw new InvalidOperationException($"Run {runId} does not exist.");
        var seq = last - events.Count;
        var stored = new List<RunEventRecord>(events.Count);
        using var insert = c.CreateCommand();
        insert.Transaction = (SqliteTransaction)t;
        insert.CommandText =
            "INSERT INTO run_events (run_id, seq, id, type, tool_name, message, payload, created_at) VALUES ($run, $seq, $id, $type, $tool, $message, $payload, $at)";
        var pRun = insert.Parameters.Add("$run", SqliteType.Text);
        var pSeq = insert.Parameters.Add("$seq", SqliteType.Integer);
        var pId = insert.Parameters.Add("$id", SqliteType.Text);
        var pType = insert.Parameters.Add("$type", SqliteType.Text);
        var pTool = insert.Parameters.Add("$tool", SqliteType.Text);
        var pMessage = insert.Parameters.Add("$message", SqliteType.Text);
        var pPayload = insert.Parameters.Add("$payload", SqliteType.Text);
        var pAt = insert.Parameters.Add("$at", SqliteType.Integer);
        pRun.Value = runId;
        pAt.Value = nowMs;
        foreach (var e in events)
        {
            seq++;
            var id = Guid.CreateVersion7().ToString();
            pSeq.Value = seq;
            pId.Value = id;
            pType.Value = e.Type;
            pTool.Value = (object?)e.ToolName ?? DBNull.Value;
            pMessage.Value = (object?)e.Message ?? DBNull.Value;
            pPayload.Value = (object?)e.PayloadJson ?? DBNull.Value;
            await insert.ExecuteNonQueryAsync();
            stored.Add(new RunEventRecord(id, runId, seq, e.Type, e.ToolName, e.Message, e.PayloadJson, SqliteTime.FromMs(nowMs)));
        }

        return stored;
    }

    public Task<IReadOnlyList<RunEventRecord>> ListAsync(string runId, long afterSeq, int limit, CancellationToken cancellationToken) =>
        db.ReadAsync<IReadOnlyList<RunEventRecord>>(async c =>
        {
            var rows = await c.QueryAsync<Row>(
                """
                SELECT id AS Id, run_id AS RunId, seq AS Seq, type AS Type, tool_name AS ToolName, message AS Message,
                       payload AS Payload, created_at AS CreatedAt
                FROM run_events WHERE run_id = @runId AND seq > @afterSeq ORDER BY seq LIMIT @limit
                """,
                new { runId, afterSeq, limit });
            return [.. rows.Select(r => new RunEventRecord(r.Id, r.RunId, r.Seq, r.Type, r.ToolName, r.Message, r.Payload, SqliteTime.FromMs(r.CreatedAt)))];
        }, cancellationToken);

    public Task<long?> FindSeqAsync(string runId, string eventId, CancellationToken cancellationToken) =>
        db.ReadAsync(c => c.ExecuteScalarAsync<long?>(
            "SELECT seq FROM run_events WHERE id = @eventId AND run_id = @runId", new { runId, eventId }), cancellationToken);

    public Task<IReadOnlyList<PrunedRun>> PruneAsync(DateTimeOffset finishedBefore, int maxRuns, CancellationToken cancellationToken) =>
        db.WriteAsync<IReadOnlyList<PrunedRun>>(async (c, t) =>
        {
            var runs = await c.QueryAsync<(string Id, string Status, long FinishedAt)>(
                """
                SELECT id, status, finished_at FROM runs
                WHERE status IN ('success','failed','cancelled') AND finished_at < @before
                  AND EXISTS (SELECT 1 FROM run_events e WHERE e.run_id = runs.id)
                ORDER BY finished_at, id LIMIT @maxRuns
                """,
                new { before = SqliteTime.ToMs(finishedBefore), maxRuns },
                t);
            var pruned = new List<PrunedRun>();
            foreach (var run in runs)
            {
                var removed = await c.ExecuteAsync("DELETE FROM run_events WHERE run_id = @Id", new { run.Id }, t);
                pruned.Add(new PrunedRun(run.Id, run.Status, SqliteTime.FromMs(run.FinishedAt), removed));
            }

            return pruned;
        }, cancellationToken);
}
