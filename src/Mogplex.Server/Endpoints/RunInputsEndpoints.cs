using System.Text.Json;
using Microsoft.Extensions.Options;
using Mogplex.Contracts;
using Mogplex.Contracts.Runs;
using Mogplex.Server.Api;
using Mogplex.Server.Auth;
using Mogplex.Server.Configuration;
using Mogplex.Server.OpenApi;
using Mogplex.Server.Runs;
using Mogplex.Storage;

namespace Mogplex.Server.Endpoints;

/// <summary>[beyond] What a person sends an interactive run: <c>/runs/{id}/messages</c>, <c>/interrupt</c>, <c>/finish</c> (write), and what it changed: <c>/diff</c> (read) — interactive.md.</summary>
public static class RunInputsEndpoints
{
    public static RouteGroupBuilder MapRunInputs(this RouteGroupBuilder api)
    {
        api.MapPost("/runs/{runId}/messages", SendAsync)
            .Doc("Interactive", "sendRunMessage", "[beyond] Send a follow-up to an interactive run",
                "`queue` (default) waits for the current turn to end; `steer` adds the text to the running turn where the harness can (Codex), else queues it and says so (`queued: true`).")
            .Header(new ApiHeaderDoc("Idempotency-Key", "Optional, at most 200 characters: a retry with the same key finds the message it sent instead of sending it twice.", Required: false, MaxLength: 200))
            .JsonBody<SendMessageRequest>($"The text (at most {RunInputService.MaxTextLength} characters) and how to deliver it.")
            .Produces<ApiEnvelope<MessageAccepted>>(StatusCodes.Status202Accepted)
            .Error(StatusCodes.Status400BadRequest, $"`text is required`, `text exceeds {RunInputService.MaxTextLength} characters`, `mode must be queue or steer`, or the `Idempotency-Key` is over 200 characters.")
            .Error(StatusCodes.Status404NotFound, "`Run not found`.")
            .Error(StatusCodes.Status409Conflict, "`RUN_NOT_INTERACTIVE`, `RUN_TERMINAL`, or `IDEMPOTENCY_CONFLICT` (the key was used with a different message).");
        foreach (var kind in new[] { RunInputKinds.Interrupt, RunInputKinds.Finish })
        {
            var interrupt = kind == RunInputKinds.Interrupt;
            api.MapPost("/runs/{runId}/" + kind, (string runId, HttpContext http, RunInputService inputs) => SignalAsync(runId, kind, http, inputs))
                .Doc("Interactive", interrupt ? "interruptRun" : "finishRun",
                    interrupt ? "[beyond] Stop the current turn; the run stays open" : "[beyond] End an interactive run: deliver, then success",
                    interrupt ? "No body. The run then waits for input (`awaiting: input`)." : "No body. Ends the conversation; the run delivers its commit as a one-shot run does, then turns `success`.")
                .Produces<ApiEnvelope<RunInputAccepted>>(StatusCodes.Status202Accepted)
                .Error(StatusCodes.Status404NotFound, "`Run not found`.")
                .Error(StatusCodes.Status409Conflict, "`RUN_NOT_INTERACTIVE` or `RUN_TERMINAL`.");
        }

        api.MapGet("/runs/{runId}/diff", DiffAsync)
            .Doc("Interactive", "getRunDiff", "[beyond] What the run changed",
                "Live while the run works (against its start commit, computed with the server's own git folder), the delivered commit afterwards.")
            .Produces<ApiEnvelope<RunDiff>>()
            .Error(StatusCodes.Status404NotFound, "`Run not found`.")
            .Error(StatusCodes.Status409Conflict, "`CONFLICT`: no diff to show yet (the run has no checkout yet, or its sandbox lives on another node).");
        return api;
    }

    /// <summary>The run's changes (read scope): live from its sandbox, or its delivered commit.</summary>
    private static async Task<IResult> DiffAsync(string runId, HttpContext http, RunDiffService diffs)
    {
        if (!QueryValues.TryId(runId, out var id))
        {
            return ApiResults.NotFound("Run not found");
        }

        return await diffs.GetAsync(Caller.From(http), id, http.RequestAborted) switch
        {
            DiffOutcome.Found found => ApiResults.Ok(new RunDiff(
                found.Diff.Base,
                found.Diff.Head,
                [.. found.Diff.Files.Select(f => new RunDiffFileEntry(f.Path, f.Status, f.Additions, f.Deletions))],
                found.Diff.Patch,
                found.Diff.Truncated)),
            DiffOutcome.Unavailable unavailable => ApiResults.Error(ErrorCodes.Conflict, unavailable.Message),
            _ => ApiResults.NotFound("Run not found"),
        };
    }

    private static async Task<IResult> SendAsync(string runId, HttpContext http, RunInputService inputs, IOptionsMonitor<ApiOptions> options)
    {
        var (body, error) = await JsonBody.ReadObjectAsync(http.Request, options.CurrentValue.MaxBodyBytes, http.RequestAborted);
        if (error is not null)
        {
            return error;
        }

        if (!body.TryGetProperty("text", out var t) || t.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(t.GetString()))
        {
            return ApiResults.BadRequest("text is required");
        }

        var text = t.GetString()!.Trim();
        if (text.Length > RunInputService.MaxTextLength)
        {
            return ApiResults.BadRequest($"text exceeds {RunInputService.MaxTextLength} characters");
        }

        var mode = "queue";
        if (body.TryGetProperty("mode", out var m) && m.ValueKind != JsonValueKind.Null)
        {
            if (m.ValueKind != JsonValueKind.String || m.GetString()!.Trim() is not ("queue" or "steer"))
            {
                return ApiResults.BadRequest("mode must be queue or steer");
            }

            mode = m.GetString()!.Trim();
        }

        // Optional here (a retry with the same key finds the message it sent).
        var key = http.Request.Headers["Idempotency-Key"].ToString().Trim();
        if (key.Length > RunInputService.MaxKeyLength)
        {
            return ApiResults.BadRequest($"Idempotency-Key exceeds maximum length of {RunInputService.MaxKeyLength} characters");
        }

        if (!QueryValues.TryId(runId, out var id))
        {
            return ApiResults.NotFound("Run not found");
        }

        return await inputs.SendMessageAsync(Caller.From(http), id, text, mode, key.Length == 0 ? null : key, http.RequestAborted) switch
        {
            SendOutcome.Accepted ok => ApiResults.Ok(new MessageAccepted(ok.Input.Id, ok.Queued), StatusCodes.Status202Accepted),
            SendOutcome.KeyConflict => ApiResults.Error(ErrorCodes.IdempotencyConflict, "Idempotency-Key was already used with a different message"),
            var other => Refused(other),
        };
    }

    private static async Task<IResult> SignalAsync(string runId, string kind, HttpContext http, RunInputService inputs)
    {
        if (!QueryValues.TryId(runId, out var id))
        {
            return ApiResults.NotFound("Run not found");
        }

        return await inputs.SignalAsync(Caller.From(http), id, kind, http.RequestAborted) switch
        {
            SendOutcome.Accepted ok => ApiResults.Ok(new RunInputAccepted(id, ok.Input.Id, kind), StatusCodes.Status202Accepted),
            var other => Refused(other),
        };
    }

    private static IResult Refused(SendOutcome outcome) => outcome switch
    {
        SendOutcome.NotInteractive => ApiResults.Error(ErrorCodes.RunNotInteractive, "The run is not interactive (start it with interactive: true)"),
        SendOutcome.Terminal => ApiResults.Error(ErrorCodes.RunTerminal, "The run already ended"),
        _ => ApiResults.NotFound("Run not found"),
    };
}
