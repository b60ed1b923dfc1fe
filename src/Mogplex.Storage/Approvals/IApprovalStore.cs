namespace Mogplex.Storage;

/// <summary>The statuses of an approval: it is asked (<c>pending</c>) and closed once.</summary>
public static class ApprovalStatuses
{
    public const string Pending = "pending";
    public const string Approved = "approved";
    public const string Rejected = "rejected";
    public const string Expired = "expired";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal) { Pending, Approved, Rejected, Expired };
}

/// <summary>
/// A tool call a run's harness asked about and the server's policy left to a person
/// (interactive.md): what it is (action, descriptors as JSON, target, risk, details as JSON),
/// the harness's own reference for the answer, and how it was closed.
/// </summary>
public sealed record ApprovalRecord
{
    public required string Id { get; init; }
    public required string RunId { get; init; }
    public required string Status { get; init; }
    public required string Action { get; init; }
    public required string DescriptorsJson { get; init; }
    public required string Target { get; init; }
    public required string Risk { get; init; }
    public string? ToolName { get; init; }
    public string? TurnId { get; init; }

    /// <summary>What the harness answers to (a JSON-RPC id, a control request id); never shown.</summary>
    public required string HarnessRef { get; init; }
    public required string DetailsJson { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? DecidedAt { get; init; }

    /// <summary><c>user</c>, <c>timeout</c>, <c>turn_ended</c>, <c>restart</c>.</summary>
    public string? DecidedBy { get; init; }

    /// <summary>Who, for a person's decision (the user's name), or what (the rule, the node).</summary>
    public string? DecidedVia { get; init; }
    public string? Reason { get; init; }
}

/// <summary>Closes a pending approval: to <c>approved</c>, <c>rejected</c> or <c>expired</c>, with the events that say so.</summary>
public sealed record ApprovalDecision(
    string RunId,
    string ApprovalId,
    string Status,
    string By,
    string? Via,
    string? Reason,
    DateTimeOffset At,
    IReadOnlyList<NewRunEvent> Events);

public enum DecideApprovalOutcome
{
    /// <summary>It was pending and is now closed as asked; the events were appended.</summary>
    Decided,

    /// <summary>It was already closed with the same status (a repeated answer).</summary>
    AlreadyDecided,

    /// <summary>It was already closed otherwise (another answer came first, or it expired).</summary>
    Closed,

    NotFound,
}

/// <summary>Approvals of runs. Deciding is a compare-and-set on <c>pending</c>: the first answer wins on every node.</summary>
public interface IApprovalStore
{
    /// <summary>Stores a pending approval and appends its events (<c>approval_requested</c>) in one transaction.</summary>
    Task AddAsync(ApprovalRecord approval, IReadOnlyList<NewRunEvent> events, CancellationToken cancellationToken);

    /// <summary>A run's approvals, oldest first; only the pending ones when asked.</summary>
    Task<IReadOnlyList<ApprovalRecord>> ListAsync(string runId, bool pendingOnly, CancellationToken cancellationToken);

    Task<ApprovalRecord?> GetAsync(string runId, string approvalId, CancellationToken cancellationToken);

    /// <summary>How many approvals of each of these runs are pending (runs without any are left out).</summary>
    Task<IReadOnlyDictionary<string, int>> CountPendingAsync(IReadOnlyList<string> runIds, CancellationToken cancellationToken);

    /// <summary>Pending → the decision's status, and its events, atomically; else what is stored.</summary>
    Task<(DecideApprovalOutcome Outcome, ApprovalRecord? Approval)> DecideAsync(ApprovalDecision decision, CancellationToken cancellationToken);
}
