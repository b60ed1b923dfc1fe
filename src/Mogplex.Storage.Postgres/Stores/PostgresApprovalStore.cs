using Dapper;

namespace Mogplex.Storage.Postgres.Stores;

internal sealed class PostgresApprovalStore(PostgresDatabase db, PostgresRunChangeNotifier notifier) : IApprovalStore
{
    private sealed class Row
    {
        public string Id { get; set; } = "";
        public string RunId { get; set; } = "";
        public string Status { get; set; } = "";
        public string Action { get; set; } = "";
        public string DescriptorsJson { get; set; } = "";
        public string Target { get; set; } = "";
        public string Risk { get; set; } = "";
        public string? ToolName { get; set; }
        public string? TurnId { get; set; }
        public string HarnessRef { get; set; } = "";
        public string DetailsJson { get; set; } = "";
        public DateTime CreatedAt { get; set; }
        public DateTime? DecidedAt { get; set; }
        public string? DecidedBy { get; set; }
        public string? DecidedVia { get; set; }
        public string? Reason { get; set; }

        public ApprovalRecord ToRecord() => new()
        {
            Id = Id,
            RunId = RunId,
            Status = Status,
            Action = Action,
            DescriptorsJson = DescriptorsJson,
            Target = Target,
            Risk = Risk,
            ToolName = ToolName,
            TurnId = TurnId,
            HarnessRef = HarnessRef,
            DetailsJson = DetailsJson,
            CreatedAt = PostgresTime.FromDb(CreatedAt),
            DecidedAt = PostgresTime.FromDb(DecidedAt),
            DecidedBy = DecidedBy,
            DecidedVia = DecidedVia,
            Reason = Reason,
        };
    }

    private const string Select =
        "SELECT id AS Id, run_id AS RunId, status AS Status, action AS Action, descriptors_json AS DescriptorsJson, target AS Target, risk AS Risk, " +
        "tool_name AS ToolName, turn_id AS TurnId, harness_ref AS HarnessRef, details_json AS DetailsJson, created_at AS CreatedAt, " +
        "decided_at AS DecidedAt, decided_by AS DecidedBy, decided_via AS DecidedVia, reason AS Reason FROM approvals";

    public async Task AddAsync(ApprovalRecord approval, IReadOnlyList<NewRunEvent> events, CancellationToken cancellationToken)
    {
        await db.WriteAsync(async (c, t) =>
        {
            await c.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO approvals (id, run_id, status, action, descriptors_json, target, risk, tool_name, turn_id, harness_ref, details_json, created_at)
                VALUES (@Id, @RunId, @Status, @Action, @DescriptorsJson, @Target, @Risk, @ToolName, @TurnId, @HarnessRef, @DetailsJson, @CreatedAt)
                """,
                new
                {
                    approval.Id,
                    approval.RunId,
                    approval.Status,
                    approval.Action,
                    approval.DescriptorsJson,
                    approval.Target,
                    approval.Risk,
                    approval.ToolName,
                    approval.TurnId,
                    approval.HarnessRef,
                    approval.DetailsJson,
                    CreatedAt = PostgresTime.ToDb(approval.CreatedAt),
                },
                t,
                cancellationToken: cancellationToken));
            await PostgresRunEventLog.AppendAsync(c, t, approval.RunId, events, approval.CreatedAt, cancellationToken);
            await notifier.NotifyInTransactionAsync(c, t, approval.RunId, cancellationToken);
            return 0;
        }, cancellationToken);
        notifier.Notify(approval.RunId);
    }

    public Task<IReadOnlyList<ApprovalRecord>> ListAsync(string runId, bool pendingOnly, CancellationToken cancellationToken) =>
        db.ReadAsync<IReadOnlyList<ApprovalRecord>>(
            async c => [.. (await c.QueryAsync<Row>(new CommandDefinition($"{Select} WHERE run_id = @runId{(pendingOnly ? " AND status = 'pending'" : "")} ORDER BY created_at, id", new { runId }, cancellationToken: cancellationToken))).Select(r => r.ToRecord())],
            cancellationToken);

    public Task<ApprovalRecord?> GetAsync(string runId, string approvalId, CancellationToken cancellationToken) =>
        db.ReadAsync(async c => (await c.QuerySingleOrDefaultAsync<Row>(new CommandDefinition($"{Select} WHERE run_id = @runId AND id = @approvalId", new { runId, approvalId }, cancellationToken: cancellationToken)))?.ToRecord(), cancellationToken);

    public Task<IReadOnlyDictionary<string, int>> CountPendingAsync(IReadOnlyList<string> runIds, CancellationToken cancellationToken) =>
        runIds.Count == 0
            ? Task.FromResult<IReadOnlyDictionary<string, int>>(new Dictionary<string, int>())
            : db.ReadAsync<IReadOnlyDictionary<string, int>>(
                async c => (await c.QueryAsync<(string RunId, long Count)>(new CommandDefinition(
                    "SELECT run_id, count(*) FROM approvals WHERE status = 'pending' AND run_id = ANY(@runIds) GROUP BY run_id",
                    new { runIds = runIds.ToArray() },
                    cancellationToken: cancellationToken))).ToDictionary(r => r.RunId, r => (int)r.Count, StringComparer.Ordinal),
                cancellationToken);

    public async Task<(DecideApprovalOutcome Outcome, ApprovalRecord? Approval)> DecideAsync(ApprovalDecision decision, CancellationToken cancellationToken)
    {
        var result = await db.WriteAsync<(DecideApprovalOutcome, ApprovalRecord?)>(async (c, t) =>
        {
            var changed = await c.ExecuteAsync(new CommandDefinition(
                """
                UPDATE approvals SET status = @Status, decided_at = @At, decided_by = @By, decided_via = @Via, reason = @Reason
                WHERE id = @ApprovalId AND run_id = @RunId AND status = 'pending'
                """,
                new { decision.Status, At = PostgresTime.ToDb(decision.At), decision.By, decision.Via, decision.Reason, decision.ApprovalId, decision.RunId },
                t,
                cancellationToken: cancellationToken));
            var row = (await c.QuerySingleOrDefaultAsync<Row>(new CommandDefinition($"{Select} WHERE run_id = @RunId AND id = @ApprovalId", new { decision.RunId, decision.ApprovalId }, t, cancellationToken: cancellationToken)))?.ToRecord();
            if (changed == 1)
            {
                await PostgresRunEventLog.AppendAsync(c, t, decision.RunId, decision.Events, decision.At, cancellationToken);
                await notifier.NotifyInTransactionAsync(c, t, decision.RunId, cancellationToken);
                return (DecideApprovalOutcome.Decided, row);
            }

            return row is null ? (DecideApprovalOutcome.NotFound, null)
                : row.Status == decision.Status ? (DecideApprovalOutcome.AlreadyDecided, row)
                : (DecideApprovalOutcome.Closed, row);
        }, cancellationToken);
        if (result.Item1 == DecideApprovalOutcome.Decided)
        {
            notifier.Notify(decision.RunId);
        }

        return result;
    }
}
