using System.Buffers.Text;
using System.Globalization;
using System.Text;
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

/// <summary><c>/runs</c>: start, list, get, cancel.</summary>
public static class RunsEndpoints
{
    public static RouteGroupBuilder MapRuns(this RouteGroupBuilder api)
    {
        // No .Accepts<T>(): it would add a content-type constraint, and a client that forgets the
        // header should still get the documented validation messages, not a routing 404.
        api.MapPost("/runs", StartAsync)
            .Doc("Runs", "startRun", "Start a run of an agent harness on a repository",
                "Queues the run and answers at once with its detail plus `replayed` (directly in `data`, no `run` wrapper). "
                + "The same `Idempotency-Key` with the same request answers the original run with `replayed: true`; with a different request, 409 `IDEMPOTENCY_CONFLICT`. "
                + "Harnesses `codex` and `claude-code` need a model key configured on the server; `exec` (enabled with `mogplexd serve --dev`) runs the prompt as a shell command and needs none.")
            .Header(new ApiHeaderDoc("Idempotency-Key", "Required: 1–200 characters after trimming, unique per request you mean (a replay of the same request returns the same run).", Required: true, MaxLength: 200))
            .JsonBody<StartRunRequest>("The run to start. Only `repoId` and `prompt` are required; a field left out takes its default.")
            .Produces<ApiEnvelope<StartedRun>>(StatusCodes.Status202Accepted)
            .Error(StatusCodes.Status400BadRequest, "`Idempotency-Key is required`, `Idempotency-Key exceeds maximum length of 200 characters`, or a field is invalid: `repoId is required`, `Prompt is required`, `Prompt is too long`, `Invalid harness`, `Invalid base branch`, `Invalid working branch`, `Working branch must differ from base branch when createBranch is true`, `Invalid root directory`.")
            .Error(StatusCodes.Status404NotFound, "`Repo not found`: no such repository, or not linked for you.")
            .Error(StatusCodes.Status409Conflict, "`IDEMPOTENCY_CONFLICT`: the key was already used for a different request.");
        api.MapGet("/runs", ListAsync)
            .Doc("Runs", "listRuns", "List your runs, newest first", "[beyond] Pages with `nextCursor`: pass it back as `cursor` for the next page; null on the last one.")
            .Produces<ApiEnvelope<RunList>>()
            .Query(new ApiQueryDoc("repo_id", "Only runs of this repository (an id that names none gives an empty list)."))
            .Query(new ApiQueryDoc("status", "Only runs in this status.") { Enum = RunStatuses.All })
            .Query(new ApiQueryDoc("awaiting", "[beyond] `approval`: active runs with a pending approval; `input`: interactive runs between turns.") { Enum = ["approval", "input"] })
            .Limit(20, 200)
            .Query(new ApiQueryDoc("cursor", "The `nextCursor` of the previous page (opaque)."))
            .Error(StatusCodes.Status400BadRequest, "`Invalid limit`, `Invalid status`, `Invalid awaiting (approval or input)` or `Invalid cursor`.");
        api.MapGet("/runs/{runId}", GetAsync)
            .Doc("Runs", "getRun", "Read a run")
            .Produces<ApiEnvelope<RunEnvelope>>()
            .Error(StatusCodes.Status404NotFound, "`Run not found`.");
        api.MapPost("/runs/{runId}/cancel", CancelAsync)
            .Doc("Runs", "cancelRun", "Cancel a run",
                "No body. Idempotent. On an active run: records `cancel_requested`, stops the harness and its whole process tree, and answers once the run is `cancelled` (or after a bounded wait, with the status it has then). On a finished run: its state, `alreadyTerminal: true`.")
            .Produces<ApiEnvelope<CancelRunResult>>()
            .Error(StatusCodes.Status404NotFound, "`Run not found`.");
        return api;
    }

    /// <summary>Checks in the documented order: body, <c>Idempotency-Key</c>, fields, repo; then the service decides.</summary>
    private static async Task<IResult> StartAsync(HttpContext http, RunService runs, RunQueuePlaces places, IHarnessCatalog harnesses, IOptionsMonitor<ApiOptions> options)
    {
        var (body, error) = await JsonBody.ReadObjectAsync(http.Request, options.CurrentValue.MaxBodyBytes, http.RequestAborted);
        if (error is not null)
        {
            return error;
        }

        var key = http.Request.Headers["Idempotency-Key"].ToString().Trim();
        if (key.Length == 0)
        {
            return ApiResults.BadRequest("Idempotency-Key is required");
        }

        if (key.Length > RunService.MaxIdempotencyKeyLength)
        {
            return ApiResults.BadRequest($"Idempotency-Key exceeds maximum length of {RunService.MaxIdempotencyKeyLength} characters");
        }

        var (input, invalid) = StartRunInput.Parse(body, harnesses.EnabledNames);
        if (input is null)
        {
            return ApiResults.BadRequest(invalid!);
        }

        if (!QueryValues.TryId(input.RepoId, out var repoId))
        {
            return ApiResults.NotFound("Repo not found");
        }

        return await runs.StartAsync(Caller.From(http), key, input with { RepoId = repoId }, http.RequestAborted) switch
        {
            StartRunOutcome.Accepted a => ApiResults.Ok(RunMapper.ToStarted(a.Run, a.Replayed, await places.ForAsync(a.Run, http.RequestAborted)), StatusCodes.Status202Accepted),
            StartRunOutcome.RepoNotFound => ApiResults.NotFound("Repo not found"),
            StartRunOutcome.Invalid i => ApiResults.BadRequest(i.Message),
            StartRunOutcome.KeyConflict => ApiResults.Error(ErrorCodes.IdempotencyConflict, "Idempotency key already used for a different request"),
            StartRunOutcome.RateLimited r => ApiResults.RateLimited(
                $"Run start limit exceeded ({r.Decision.Window.Limit} per {r.Decision.Window.Name}). Retry after {ApiResults.Seconds(r.Decision.RetryAfter)}s.",
                r.Decision),
            _ => throw new InvalidOperationException("Unknown start outcome"),
        };
    }

    private static async Task<IResult> ListAsync(HttpContext http, IMogplexStore store, RunQueuePlaces places)
    {
        if (!QueryValues.TryLimit(http.Request, 20, 200, out var limit))
        {
            return ApiResults.BadRequest("Invalid limit");
        }

        var status = QueryValues.Get(http.Request, "status");
        if (status is not null && !RunStatuses.All.Contains(status))
        {
            return ApiResults.BadRequest("Invalid status");
        }

        RunCursor? after = null;
        if (QueryValues.Get(http.Request, "cursor") is { } rawCursor && !TryDecodeCursor(rawCursor, out after))
        {
            return ApiResults.BadRequest("Invalid cursor");
        }

        var repoFilter = QueryValues.Get(http.Request, "repo_id");
        if (repoFilter is not null && !QueryValues.TryId(repoFilter, out repoFilter))
        {
            // Not an id: it cannot match any run.
            return ApiResults.Ok(new RunList([], null));
        }

        var caller = Caller.From(http);
        // [beyond] ?awaiting=approval: active runs with a pending approval; input: interactive runs between turns.
        var awaiting = QueryValues.Get(http.Request, "awaiting");
        if (awaiting is not (null or "approval" or "input"))
        {
            return ApiResults.BadRequest("Invalid awaiting (approval or input)");
        }

        var page = await store.Runs.ListRunsAsync(new RunQuery(caller.UserId, repoFilter, status, limit + 1, after) { AwaitingApproval = awaiting == "approval", AwaitingInput = awaiting == "input" }, http.RequestAborted);
        var shown = page.Take(limit).ToList();
        var pending = await store.Approvals.CountPendingAsync([.. shown.Where(r => r.PermissionMode == "approval" && !RunStatuses.IsTerminal(r.Status)).Select(r => r.Id)], http.RequestAborted);
        var queue = await places.ForAsync(shown, http.RequestAborted);
        var runs = shown.Select(r => RunMapper.ToDetail(r, pending.GetValueOrDefault(r.Id), queue.GetValueOrDefault(r.Id))).ToList();
        var next = page.Count > limit ? EncodeCursor(page[limit - 1]) : null;
        return ApiResults.Ok(new RunList(runs, next));
    }

    private static async Task<IResult> GetAsync(string runId, HttpContext http, IMogplexStore store, RunDetails details)
    {
        var run = QueryValues.TryId(runId, out var id) ? await store.Runs.GetRunAsync(id, Caller.From(http).UserId, http.RequestAborted) : null;
        return run is null
            ? ApiResults.NotFound("Run not found")
            : ApiResults.Ok(new RunEnvelope(await details.ForAsync(run, http.RequestAborted)));
    }

    private static async Task<IResult> CancelAsync(string runId, HttpContext http, RunService runs)
    {
        var result = QueryValues.TryId(runId, out var id) ? await runs.CancelAsync(Caller.From(http), id, http.RequestAborted) : null;
        return result is null ? ApiResults.NotFound("Run not found") : ApiResults.Ok(result);
    }

    private static string EncodeCursor(RunRecord last) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(
            last.CreatedAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) + "." + last.Id));

    private static bool TryDecodeCursor(string raw, out RunCursor? cursor)
    {
        cursor = null;
        try
        {
            var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(raw));
            var dot = text.IndexOf('.', StringComparison.Ordinal);
            if (dot <= 0 || !long.TryParse(text.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out var ms) ||
                !QueryValues.TryId(text[(dot + 1)..], out var id) || ms > 253402300799999)
            {
                return false;
            }

            cursor = new RunCursor(DateTimeOffset.FromUnixTimeMilliseconds(ms), id);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
