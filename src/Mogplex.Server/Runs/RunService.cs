using Microsoft.Extensions.Options;
using Mogplex.Contracts;
using Mogplex.Contracts.Events;
using Mogplex.Contracts.Runs;
using Mogplex.Server.Api;
using Mogplex.Server.Auth;
using Mogplex.Server.Configuration;
using Mogplex.Server.Events;
using Mogplex.Server.Repos;
using Mogplex.Server.Validation;
using Mogplex.Storage;

namespace Mogplex.Server.Runs;

/// <summary>
/// Owns the rules of accepting and cancelling runs. Handlers validate transport concerns and call
/// here; the store enforces the state machine.
/// </summary>
public sealed class RunService(
    IMogplexStore store,
    RunEvents events,
    RepoMirrors mirrors,
    TimeProvider time,
    IOptionsMonitor<RateLimitOptions> limits,
    IOptionsMonitor<ApiOptions> api,
    Engine.Harnesses.HarnessRegistry harnesses,
    IRunCancellationSignal cancellation,
    Engine.RunQueueSignal queue)
{
    public const int MaxIdempotencyKeyLength = 200;

    public async Task<IResult> StartAsync(Caller caller, string? idempotencyKeyHeader, System.Text.Json.JsonElement body, CancellationToken ct)
    {
        var key = idempotencyKeyHeader?.Trim() ?? "";
        if (key.Length == 0)
        {
            return ApiResults.BadRequest("Idempotency-Key is required");
        }

        if (key.Length > MaxIdempotencyKeyLength)
        {
            return ApiResults.BadRequest($"Idempotency-Key exceeds maximum length of {MaxIdempotencyKeyLength} characters");
        }

        var (input, error) = StartRunInput.Parse(body, harnesses.EnabledNames);
        if (input is null)
        {
            return ApiResults.BadRequest(error!);
        }

        var repo = QueryValues.TryId(input.RepoId, out var repoId) ? await store.Repos.GetRepoAsync(repoId, caller.UserId, ct) : null;
        if (repo is null)
        {
            return ApiResults.NotFound("Repo not found");
        }

        var (baseBranch, working, root) = input.Branches.Resolve(repo.DefaultBranch, repo.RootDirectory);
        if (input.Branches.CreateBranch && working == baseBranch)
        {
            return ApiResults.BadRequest("Working branch must differ from base branch when createBranch is true");
        }

        var hash = input.Hash(baseBranch, working, root);
        var now = time.GetUtcNow();
        if (working is null)
        {
            working = WorkingBranchName.Generate(DateOnly.FromDateTime(now.UtcDateTime), input.Prompt);
            if (await mirrors.BranchExistsAsync(repo.Id, working, ct))
            {
                working = WorkingBranchName.Generate(DateOnly.FromDateTime(now.UtcDateTime), input.Prompt, WorkingBranchName.SuffixFromHash(hash));
            }
        }

        var run = new RunRecord
        {
            Id = Guid.CreateVersion7(now).ToString(),
            UserId = caller.UserId,
            RepoId = repo.Id,
            AiCallId = Guid.NewGuid().ToString(),
            Harness = input.Harness,
            Status = RunStatuses.Pending,
            BaseBranch = baseBranch,
            WorkingBranch = working,
            CreateBranch = input.Branches.CreateBranch,
            RootDirectory = root,
            Prompt = input.Prompt,
            ConversationId = input.ConversationId,
            WorkspaceSessionId = input.WorkspaceSessionId,
            Mode = input.Mode,
            CreatedAt = now,
            UpdatedAt = now,
        };
        var l = limits.CurrentValue;
        var result = await store.Runs.CreateRunAsync(
            new CreateRunCommand(
                run,
                key,
                hash,
                "start:" + caller.TokenId,
                [
                    new RateWindow("minute", l.RunStartsPerMinute, TimeSpan.FromMinutes(1)),
                    new RateWindow("hour", l.RunStartsPerHour, TimeSpan.FromHours(1)),
                    new RateWindow("day", l.RunStartsPerDay, TimeSpan.FromDays(1)),
                ],
                [events.Create(RunEventTypes.Started, "Run accepted")]),
            ct);
        return result switch
        {
            CreateRunResult.Created c => Accepted(c.Run),
            CreateRunResult.Replayed r => ApiResults.Ok(RunMapper.ToStarted(r.Run, replayed: true), StatusCodes.Status202Accepted),
            CreateRunResult.KeyConflict => ApiResults.Error(ErrorCodes.IdempotencyConflict, "Idempotency key already used for a different request"),
            CreateRunResult.RateLimited limited => ApiResults.RateLimited(
                $"Run start limit exceeded ({limited.Decision.Window.Limit} per {limited.Decision.Window.Name}). Retry after {ApiAuthFilter.Seconds(limited.Decision.RetryAfter)}s.",
                limited.Decision.RetryAfter),
            _ => throw new InvalidOperationException("Unknown create result"),
        };
    }

    private IResult Accepted(RunRecord run)
    {
        queue.Notify();
        return ApiResults.Ok(RunMapper.ToStarted(run, replayed: false), StatusCodes.Status202Accepted);
    }

    /// <summary>
    /// Cancels a run. A pending run is cancelled at once, in one transaction; an active one gets
    /// <c>cancel_requested</c>, its executor is signalled, and the answer waits (bounded) for the
    /// terminal status. A terminal run is reported as it is.
    /// </summary>
    public async Task<CancelRunResult?> CancelAsync(Caller caller, string runId, CancellationToken ct)
    {
        var run = await store.Runs.GetRunAsync(runId, caller.UserId, ct);
        if (run is null)
        {
            return null;
        }

        if (RunStatuses.IsTerminal(run.Status))
        {
            return new CancelRunResult(RunMapper.ToDetail(run), run.Status, AlreadyTerminal: true);
        }

        // A queued run that no worker holds is cancelled in place; a claimed one (preparing its
        // sandbox) is cancelled by its worker, which stops what it started.
        if (run.Status == RunStatuses.Pending && run.LeaseOwner is null)
        {
            var cancelled = await store.Runs.TransitionAsync(
                new RunTransition
                {
                    RunId = run.Id,
                    From = [RunStatuses.Pending],
                    To = RunStatuses.Cancelled,
                    OnlyIfUnclaimed = true,
                    At = time.GetUtcNow(),
                    Error = "Cancelled by user",
                    Events =
                    [
                        events.Create(RunEventTypes.CancelRequested, "Cancellation requested"),
                        events.Create(RunEventTypes.Cancelled, "Run cancelled before it started"),
                    ],
                },
                ct);
            if (cancelled is not null)
            {
                return new CancelRunResult(RunMapper.ToDetail(cancelled), cancelled.Status, AlreadyTerminal: false);
            }
        }

        // Active (or claimed while we looked): record the request once, signal the executor, wait.
        var changed = store.Changes.NextChangeAsync(run.Id);
        var (current, _) = await store.Runs.RequestCancelAsync(run.Id, caller.UserId, events.Create(RunEventTypes.CancelRequested, "Cancellation requested"), time.GetUtcNow(), ct);
        cancellation.Signal(run.Id);
        current = await WaitForTerminalAsync(run.Id, caller.UserId, current, changed, ct);
        return new CancelRunResult(RunMapper.ToDetail(current!), current!.Status, AlreadyTerminal: false);
    }

    /// <summary>Waits in real time (not the business clock) for the run to become terminal, bounded.</summary>
    private async Task<RunRecord?> WaitForTerminalAsync(string runId, string userId, RunRecord? current, Task changed, CancellationToken ct)
    {
        var budget = System.Diagnostics.Stopwatch.StartNew();
        var wait = TimeSpan.FromSeconds(api.CurrentValue.CancelWaitSeconds);
        while (current is not null && !RunStatuses.IsTerminal(current.Status) && budget.Elapsed < wait)
        {
            // The change signal is the fast path; the 250 ms re-read is the backstop.
            await Task.WhenAny(changed, Task.Delay(TimeSpan.FromMilliseconds(250), ct));
            ct.ThrowIfCancellationRequested();
            changed = store.Changes.NextChangeAsync(runId);
            current = await store.Runs.GetRunAsync(runId, userId, ct);
        }

        return current;
    }
}

/// <summary>Tells whoever executes a run that its cancellation was requested (the run engine implements it).</summary>
public interface IRunCancellationSignal
{
    void Signal(string runId);
}
