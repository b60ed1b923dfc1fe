using System.Text.Json;
using Microsoft.Extensions.Options;
using Mogplex.Contracts;
using Mogplex.Contracts.Sandboxes;
using Mogplex.Server.Api;
using Mogplex.Server.Auth;
using Mogplex.Server.Configuration;
using Mogplex.Server.Runs;
using Mogplex.Server.Sandboxes;
using Mogplex.Storage;

namespace Mogplex.Server.Endpoints;

/// <summary><c>/sandboxes</c>: list, create-or-reuse, logs, [beyond] stop.</summary>
public static class SandboxesEndpoints
{
    public static RouteGroupBuilder MapSandboxes(this RouteGroupBuilder api)
    {
        api.MapGet("/sandboxes", ListAsync).Produces<ApiEnvelope<SandboxList>>();
        api.MapPost("/sandboxes", CreateAsync).Produces<ApiEnvelope<SandboxEnvelope>>(StatusCodes.Status202Accepted);
        api.MapGet("/sandboxes/{id}/logs", LogsAsync).Produces<ApiEnvelope<SandboxLogs>>();
        api.MapPost("/sandboxes/{id}/stop", StopAsync).Produces<ApiEnvelope<StopSandboxResult>>();
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
