using System.Text.Json;
using System.Text.Json.Nodes;
using Mogplex.Contracts.Events;
using Mogplex.Contracts.Runs;
using Mogplex.Server.Auth;
using Mogplex.Server.Events;
using Mogplex.Storage;

namespace Mogplex.Server.Runs;

/// <summary>
/// A person's answers to a run's approvals (interactive.md): listed for the run's owner, decided
/// from any node by compare-and-set (the first answer wins; the same answer again is told so; a
/// different one gets the approval as it was closed). The node that runs the harness wakes on the
/// run's change notification and passes the answer on.
/// </summary>
public sealed class ApprovalService(IMogplexStore store, RunEvents events, TimeProvider time)
{
    public const int MaxReasonLength = Mogplex.Contracts.ApiLimits.MaxReasonLength;

    /// <summary>The caller's run's approvals, oldest first; null when the run is not the caller's.</summary>
    public async Task<IReadOnlyList<ApprovalRecord>?> ListAsync(Caller caller, string runId, bool pendingOnly, CancellationToken ct) =>
        await store.Runs.GetRunAsync(runId, caller.UserId, ct) is null ? null : await store.Approvals.ListAsync(runId, pendingOnly, ct);

    public async Task<DecideOutcome> DecideAsync(Caller caller, string runId, string approvalId, bool approve, string? reason, CancellationToken ct)
    {
        if (await store.Runs.GetRunAsync(runId, caller.UserId, ct) is null)
        {
            return new DecideOutcome.NotFound("Run not found");
        }

        var name = (await store.Users.ListUsersAsync(ct)).FirstOrDefault(u => u.Id == caller.UserId)?.Name ?? caller.UserId;
        var status = approve ? ApprovalStatuses.Approved : ApprovalStatuses.Rejected;
        var approval = await store.Approvals.GetAsync(runId, approvalId, ct);
        if (approval is null)
        {
            return new DecideOutcome.NotFound("Approval not found");
        }

        var decided = Decided(events, approval, approve ? "approve" : "reject", "user", rule: null, reason, via: name);
        var (outcome, stored) = await store.Approvals.DecideAsync(new ApprovalDecision(runId, approvalId, status, "user", name, reason, time.GetUtcNow(), [decided]), ct);
        return outcome switch
        {
            DecideApprovalOutcome.Decided or DecideApprovalOutcome.AlreadyDecided => new DecideOutcome.Decided(stored!),
            DecideApprovalOutcome.Closed => new DecideOutcome.Closed(stored!),
            _ => new DecideOutcome.NotFound("Approval not found"),
        };
    }

    /// <summary>
    /// <c>approval_decided</c>: e.g. <c>approved by alice</c>, <c>denied by rule bash:rm *</c>,
    /// <c>rejected: timed out</c>; its payload says who or what decided.
    /// </summary>
    public static NewRunEvent Decided(RunEvents events, ApprovalRecord? approval, string decision, string by, Permissions.PermissionRule? rule, string? reason, string? via, string? approvalId = null, string? target = null)
    {
        var what = target ?? approval?.Target ?? "";
        var message = by switch
        {
            "user" => $"{(decision == "approve" ? "approved" : "rejected")} by {via}: {what}",
            "rule" => $"{(decision == "approve" ? "allowed" : "denied")} by rule {rule?.Text}: {what}",
            "mode" => $"{(decision == "approve" ? "allowed" : "denied")} by the permission mode: {what}",
            "timeout" => $"rejected: no answer in time: {what}",
            _ => $"withdrawn ({by}): {what}",
        };
        return events.Create(RunEventTypes.ApprovalDecided, message, payload: new JsonObject
        {
            ["approvalId"] = approval?.Id ?? approvalId,
            ["decision"] = decision,
            ["by"] = by,
            ["rule"] = rule?.Text,
            ["ruleSource"] = rule?.Source,
            ["reason"] = reason,
            ["via"] = via,
        });
    }

    public static Approval ToContract(ApprovalRecord a) => new()
    {
        Id = a.Id,
        RunId = a.RunId,
        Status = a.Status,
        Action = a.Action,
        Descriptors = JsonSerializer.Deserialize(a.DescriptorsJson, Mogplex.Contracts.Json.MogplexJsonContext.Default.IReadOnlyListString) ?? [],
        Target = a.Target,
        Risk = a.Risk,
        ToolName = a.ToolName,
        Details = JsonDocument.Parse(a.DetailsJson).RootElement.Clone(),
        CreatedAt = a.CreatedAt,
        DecidedAt = a.DecidedAt,
        DecidedBy = a.DecidedBy,
        DecidedVia = a.DecidedVia,
        Reason = a.Reason,
    };
}

/// <summary>What <see cref="ApprovalService.DecideAsync"/> did.</summary>
public abstract record DecideOutcome
{
    private DecideOutcome()
    {
    }

    /// <summary>Decided now, or already decided the same way.</summary>
    public sealed record Decided(ApprovalRecord Approval) : DecideOutcome;

    /// <summary>Closed otherwise before (another answer, a timeout, its turn ended).</summary>
    public sealed record Closed(ApprovalRecord Approval) : DecideOutcome;

    public sealed record NotFound(string Message) : DecideOutcome;
}
