using System.Text.Json;

namespace Mogplex.Contracts.Runs;

/// <summary>
/// [beyond] A tool call a run's harness asked about that its permission rules left to a person
/// (interactive.md): what it does and how it was closed.
/// </summary>
public sealed record Approval
{
    public required string Id { get; init; }
    public required string RunId { get; init; }

    /// <summary><c>pending</c>, <c>approved</c>, <c>rejected</c> or <c>expired</c>.</summary>
    public required string Status { get; init; }

    /// <summary><c>run_command</c>, <c>apply_patch</c>, <c>delete_file</c>, <c>use_remote_tool</c>, <c>read_files</c>.</summary>
    public required string Action { get; init; }

    /// <summary>What the rules match: <c>bash:…</c>, <c>write:…</c>, <c>read:…</c>, <c>mcp:…</c>, <c>net:…</c>.</summary>
    public required IReadOnlyList<string> Descriptors { get; init; }

    /// <summary>What a person is shown first: the command, or the files.</summary>
    public required string Target { get; init; }

    /// <summary><c>low</c>, <c>medium</c> or <c>high</c>.</summary>
    public required string Risk { get; init; }
    public string? ToolName { get; init; }

    /// <summary><c>{command?, cwd?, changes?: [{path, kind, diff}]}</c>, paths repo-relative.</summary>
    public required JsonElement Details { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? DecidedAt { get; init; }

    /// <summary><c>user</c>, <c>timeout</c>, <c>turn_ended</c>, <c>restart</c>.</summary>
    public string? DecidedBy { get; init; }

    /// <summary>The user's name when a person decided.</summary>
    public string? DecidedVia { get; init; }
    public string? Reason { get; init; }
}

/// <summary>[beyond] <c>GET /runs/{id}/approvals</c>.</summary>
public sealed record ApprovalList(IReadOnlyList<Approval> Approvals);

/// <summary>[beyond] <c>POST /runs/{id}/approvals/{approvalId}</c>: the approval as stored now.</summary>
public sealed record ApprovalEnvelope(Approval Approval);

/// <summary>[beyond] The body of <c>POST /runs/{id}/approvals/{approvalId}</c>.</summary>
public sealed record DecideApprovalRequest
{
    /// <summary><c>approve</c> or <c>reject</c>.</summary>
    public required string Decision { get; init; }

    /// <summary>Why (told to the model on a reject), at most 1,000 characters.</summary>
    public string? Reason { get; init; }
}

/// <summary>[beyond] 409 <c>APPROVAL_CLOSED</c>: the error, and the approval as it was closed.</summary>
public sealed record ApprovalClosedEnvelope(bool Ok, ApiError Error, ApprovalEnvelope Data);
