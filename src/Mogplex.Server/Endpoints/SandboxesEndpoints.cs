using System.Text.Json;
using Microsoft.Extensions.Options;
using Mogplex.Contracts;
using Mogplex.Contracts.Sandboxes;
using Mogplex.Server.Api;
using Mogplex.Server.Auth;
using Mogplex.Server.Configuration;
using Mogplex.Server.OpenApi;
using Mogplex.Server.Runs;
using Mogplex.Server.Sandboxes;
using Mogplex.Storage;

namespace Mogplex.Server.Endpoints;

/// <summary><c>/sandboxes</c>: list, create-or-reuse, logs, [beyond] stop.</summary>
public static class SandboxesEndpoints
{
    public static RouteGroupBuilder MapSandboxes(this RouteGroupBuilder api)
    {
        api.MapGet("/sandboxes", ListAsync)
            .Doc("Sandboxes", "listSandboxes", "List your sandboxes", "Ordered by `last_active_at`, newest first. Records are snake_case.")
            .Produces<ApiEnvelope<SandboxList>>()
            .Query(new ApiQueryDoc("repo_id", "Only sandboxes of this repository (an id that names none gives an empty list)."))
            .Query(new ApiQueryDoc("status", "Only sandboxes in this status.") { Enum = SandboxStatuses.All })
            .Limit(100, 200)
            .Error(StatusCodes.Status400BadRequest, "`Invalid limit` or `Invalid status`.");
        api.MapPost("/sandboxes", CreateAsync)
            .Doc("Sandboxes", "createSandbox", "Create a sandbox, or reuse the active one", "Reuses an active sandbox of the same repository, working branch and root directory.")
            .JsonBody<CreateSandboxRequest>("The repository and branch of the sandbox (camelCase, like a run start).")
            .Produces<ApiEnvelope<SandboxEnvelope>>(StatusCodes.Status202Accepted)
            .Error(StatusCodes.Status400BadRequest, "`repoId is required`, `Invalid base branch`, `Invalid working branch`, `Working branch must differ from base branch when createBranch is true`, `Invalid root directory`.")
            .Error(StatusCodes.Status404NotFound, "`Repo not found`.");
        api.MapGet("/sandboxes/{id}/logs", LogsAsync)
            .Doc("Sandboxes", "getSandboxLogs", "Read a sandbox's logs and lifecycle events")
            .Produces<ApiEnvelope<SandboxLogs>>()
            .Error(StatusCodes.Status404NotFound, "`Sandbox not found`.");
        api.MapPost("/sandboxes/{id}/stop", StopAsync)
            .Doc("Sandboxes", "stopSandbox", "[beyond] Stop a sandbox",
                "No body. Idempotent. Its processes end and its checkout is removed; the record stays, `stopped`.")
            .Produces<ApiEnvelope<StopSandboxResult>>()
            .Error(StatusCodes.Status404NotFound, "`Sandbox not found`.")
            .Error(StatusCodes.Status409Conflict, "`CONFLICT` `Sandbox is in use by an active run` (cancel the run first).");
        return api;
    }

    private static async Task<IResult> ListAsync(HttpContext http, IMogplexStore store)
    {
        if (!QueryValues.TryLimit(http.Request, 100, 200, out var limit))
        {
            return ApiResults.BadRequest("Invalid limit");
        }

        var status = QueryValues.Get(http.Request, "status");
        if (status is not null && !SandboxStatuses.All.Contains(status))
        {
            return ApiResults.BadRequest("Invalid status");
        }

        var repoFilter = QueryValues.Get(http.Request, "repo_id");
        if (repoFilter is not null && !QueryValues.TryId(repoFilter, out repoFilter))
        {
            return ApiResults.Ok(new SandboxList([]));
        }

        var list = await store.Sandboxes.ListAsync(new SandboxQuery(Caller.From(http).UserId, repoFilter, status, limit), http.RequestAborted);
        return ApiResults.Ok(new SandboxList([.. list.Select(SandboxMapper.ToContract)]));
    }

    /// <summary>Checks in the documented order: body, <c>repoId</c>, branch fields, repo; then the service decides.</summary>
    private static async Task<IResult> CreateAsync(HttpContext http, SandboxService sandboxes, IOptionsMonitor<ApiOptions> options)
    {
        var (body, error) = await JsonBody.ReadObjectAsync(http.Request, options.CurrentValue.MaxBodyBytes, http.RequestAborted);
        if (error is not null)
        {
            return error;
        }

        if (!body.TryGetProperty("repoId", out var repoEl) || repoEl.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(repoEl.GetString()))
        {
            return ApiResults.BadRequest("repoId is required");
        }

        var (fields, invalid) = BranchFields.Parse(body);
        if (fields is null)
        {
            return ApiResults.BadRequest(invalid!);
        }

        if (!QueryValues.TryId(repoEl.GetString()!.Trim(), out var repoId))
        {
            return ApiResults.NotFound("Repo not found");
        }

        return await sandboxes.CreateAsync(Caller.From(http), repoId, fields, http.RequestAborted) switch
        {
            CreateSandboxOutcome.Created c => ApiResults.Ok(new SandboxEnvelope(SandboxMapper.ToContract(c.Sandbox)), StatusCodes.Status202Accepted),
            CreateSandboxOutcome.RepoNotFound => ApiResults.NotFound("Repo not found"),
            CreateSandboxOutcome.Invalid i => ApiResults.BadRequest(i.Message),
            _ => throw new InvalidOperationException("Unknown create outcome"),
        };
    }

    private static async Task<IResult> LogsAsync(string id, HttpContext http, IMogplexStore store)
    {
        var ct = http.RequestAborted;
        var sandbox = QueryValues.TryId(id, out var sid) ? await store.Sandboxes.GetAsync(sid, Caller.From(http).UserId, ct) : null;
        if (sandbox is null)
        {
            return ApiResults.NotFound("Sandbox not found");
        }

        var lifecycle = await store.Sandboxes.ListLifecycleAsync(sandbox.Id, ct);
        var withLogs = new SandboxWithLogs
        {
            Id = sandbox.Id,
            SandboxId = sandbox.SandboxId,
            RepoId = sandbox.RepoId,
            Status = sandbox.Status,
            BaseBranch = sandbox.BaseBranch,
            WorkingBranch = sandbox.WorkingBranch,
            RootDirectory = sandbox.RootDirectory,
            PreviewUrl = sandbox.PreviewUrl,
            CreatedAt = sandbox.CreatedAt,
            LastActiveAt = sandbox.LastActiveAt,
            Error = sandbox.Error,
            InstallLog = sandbox.InstallLog,
            DevLog = sandbox.DevLog,
        };
        var events = lifecycle.Select(e => new SandboxLifecycleEvent(
            e.Id,
            e.EventType,
            e.DecisionCode,
            e.WorkerRunId,
            e.PayloadJson is null ? null : System.Text.Json.JsonDocument.Parse(e.PayloadJson).RootElement.Clone(),
            e.CreatedAt)).ToList();
        return ApiResults.Ok(new SandboxLogs(withLogs, events));
    }

    private static async Task<IResult> StopAsync(string id, HttpContext http, SandboxService sandboxes)
    {
        if (!QueryValues.TryId(id, out var sid))
        {
            return ApiResults.NotFound("Sandbox not found");
        }

        var (outcome, sandbox) = await sandboxes.StopAsync(Caller.From(http), sid, http.RequestAborted);
        return outcome switch
        {
            StopSandboxOutcome.NotFound => ApiResults.NotFound("Sandbox not found"),
            StopSandboxOutcome.InUse => ApiResults.Error(ErrorCodes.Conflict, "Sandbox is in use by an active run"),
            _ => ApiResults.Ok(new StopSandboxResult(SandboxMapper.ToContract(sandbox!), outcome == StopSandboxOutcome.AlreadyStopped)),
        };
    }
}
