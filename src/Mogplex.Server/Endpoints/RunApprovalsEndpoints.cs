using System.Text.Json;
using Microsoft.Extensions.Options;
using Mogplex.Contracts;
using Mogplex.Contracts.Json;
using Mogplex.Contracts.Runs;
using Mogplex.Server.Api;
using Mogplex.Server.Auth;
using Mogplex.Server.Configuration;
using Mogplex.Server.OpenApi;
using Mogplex.Server.Runs;

namespace Mogplex.Server.Endpoints;

/// <summary>[beyond] <c>/runs/{id}/approvals</c>: list (read), decide (write) — interactive.md.</summary>
public static class RunApprovalsEndpoints
{
    public static RouteGroupBuilder MapRunApprovals(this RouteGroupBuilder api)
    {
        api.MapGet("/runs/{runId}/approvals", ListAsync)
            .Doc("Interactive", "listRunApprovals", "[beyond] List a run's approvals", "The tool calls of a run in `approval` mode that waited (or wait) for a person, oldest first.")
            .Produces<ApiEnvelope<ApprovalList>>()
            .Query(new ApiQueryDoc("status", "`pending` (default): only those still waiting; `all`: every one.") { Enum = ["pending", "all"], Default = "pending" })
            .Error(StatusCodes.Status400BadRequest, "`status must be pending or all`.")
            .Error(StatusCodes.Status404NotFound, "`Run not found`.");
        api.MapPost("/runs/{runId}/approvals/{approvalId}", DecideAsync)
            .Doc("Interactive", "decideRunApproval", "[beyond] Approve or reject a pending tool call",
                "Idempotent: the same decision again answers 200. The first answer wins across every cockpit, client and node.")
            .JsonBody<DecideApprovalRequest>($"The decision, and optionally a reason the harness is told (at most {ApprovalService.MaxReasonLength} characters).")
            .Produces<ApiEnvelope<ApprovalEnvelope>>()
            .Error(StatusCodes.Status400BadRequest, $"`decision must be approve or reject`, `reason must be a string`, `reason exceeds {ApprovalService.MaxReasonLength} characters`.")
            .Error(StatusCodes.Status404NotFound, "`Run not found` or `Approval not found`.")
            .Error(StatusCodes.Status409Conflict, "`APPROVAL_CLOSED`: a different decision was already taken, or the approval expired; `data` carries the stored approval.", typeof(ApprovalClosedEnvelope));
        return api;
    }

    /// <summary><c>?status=pending</c> (default) or <c>all</c>.</summary>
    private static async Task<IResult> ListAsync(string runId, HttpContext http, ApprovalService approvals)
    {
        var status = QueryValues.Get(http.Request, "status") ?? "pending";
        if (status is not ("pending" or "all"))
        {
            return ApiResults.BadRequest("status must be pending or all");
        }

        var list = QueryValues.TryId(runId, out var id) ? await approvals.ListAsync(Caller.From(http), id, status == "pending", http.RequestAborted) : null;
        return list is null
            ? ApiResults.NotFound("Run not found")
            : ApiResults.Ok(new ApprovalList([.. list.Select(ApprovalService.ToContract)]));
    }

    private static async Task<IResult> DecideAsync(string runId, string approvalId, HttpContext http, ApprovalService approvals, IOptionsMonitor<ApiOptions> options)
    {
        var (body, error) = await JsonBody.ReadObjectAsync(http.Request, options.CurrentValue.MaxBodyBytes, http.RequestAborted);
        if (error is not null)
        {
            return error;
        }

        var decision = body.TryGetProperty("decision", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString()!.Trim() : null;
        if (decision is not ("approve" or "reject"))
        {
            return ApiResults.BadRequest("decision must be approve or reject");
        }

        string? reason = null;
        if (body.TryGetProperty("reason", out var r) && r.ValueKind != JsonValueKind.Null)
        {
            if (r.ValueKind != JsonValueKind.String)
            {
                return ApiResults.BadRequest("reason must be a string");
            }

            reason = r.GetString()!.Trim();
            if (reason.Length > ApprovalService.MaxReasonLength)
            {
                return ApiResults.BadRequest($"reason exceeds {ApprovalService.MaxReasonLength} characters");
            }

            reason = reason.Length == 0 ? null : reason;
        }

        if (!QueryValues.TryId(runId, out var run) || !QueryValues.TryId(approvalId, out var approval))
        {
            return ApiResults.NotFound(QueryValues.TryId(runId, out _) ? "Approval not found" : "Run not found");
        }

        return await approvals.DecideAsync(Caller.From(http), run, approval, decision == "approve", reason, http.RequestAborted) switch
        {
            DecideOutcome.Decided ok => ApiResults.Ok(new ApprovalEnvelope(ApprovalService.ToContract(ok.Approval))),
            DecideOutcome.Closed closed => TypedResults.Json(
                new ApprovalClosedEnvelope(false, new ApiError(ErrorCodes.ApprovalClosed, $"The approval is already {closed.Approval.Status}"), new ApprovalEnvelope(ApprovalService.ToContract(closed.Approval))),
                MogplexJsonContext.Default.ApprovalClosedEnvelope,
                statusCode: StatusCodes.Status409Conflict),
            DecideOutcome.NotFound missing => ApiResults.NotFound(missing.Message),
            _ => throw new InvalidOperationException("Unknown decide outcome"),
        };
    }
}
