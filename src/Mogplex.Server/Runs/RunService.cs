using Microsoft.Extensions.Options;
using Mogplex.Contracts;
using Mogplex.Contracts.Events;
using Mogplex.Contracts.Runs;
using Mogplex.Server.Auth;
using Mogplex.Server.Configuration;
using Mogplex.Server.Events;
using Mogplex.Server.Repos;
using Mogplex.Server.Validation;
using Mogplex.Storage;

namespace Mogplex.Server.Runs;

/// <summary>
/// Owns the rules of accepting and cancelling runs and returns what happened; the endpoints own
/// HTTP (headers, bodies, status codes) and map each outcome to an answer. The store enforces the
/// state machine; <see cref="RunTransitions"/> builds its changes.
/// </summary>
public sealed class RunService(
    IMogplexStore store,
    RunEvents events,
    RepoMirrors mirrors,
    TimeProvider time,
    IOptionsMonitor<RateLimitOptions> limits,
    IOptionsMonitor<ApiOptions> api,
    IRunCancellationSignal cancellation,
    RunQueueSignal queue)
{
    public const int MaxIdempotencyKeyLength = Mogplex.Contracts.ApiLimits.MaxIdempotencyKeyLength;

    /// <summary>
    /// Accepts a run (or replays the one this key already started): the repo must be the caller's,
    /// the branches consistent, the token under its run-start limits. The caller (the endpoint)
    /// has checked the key's presence and length, parsed the body and normalized the repo id.
    /// </summary>
    public async Task<StartRunOutcome> StartAsync(Caller caller, string idempotencyKey, StartRunInput input, CancellationToken ct)
    {
        var repo = await store.Repos.GetRepoAsync(input.RepoId, caller.UserId, ct);
        if (repo is null)
        {
            return new StartRunOutcome.RepoNotFound();
        }

        var (baseBranch, working, root) = input.Branches.Resolve(repo.DefaultBranch, repo.RootDirectory);
        if (input.Branches.CreateBranch && working == baseBranch)
        {
            return new StartRunOutcome.Invalid("Working branch must differ from base branch when createBranch is true");
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
            PermissionMode = input.PermissionMode,
            PermissionsJson = input.PermissionsJson,
            Model = input.Model,
            Interactive = input.Interactive,
            CreatedAt = now,
            UpdatedAt = now,
        };
        var l = limits.CurrentValue;
        var result = await store.Runs.CreateRunAsync(
            new CreateRunCommand(
                run,
                idempotencyKey,
                hash,
                "start:" + caller.TokenId,
                [
                    new RateWindow("minute", l.RunStartsPerMinute, TimeSpan.FromMinutes(1)),
                    new RateWindow("hour", l.RunStartsPerHour, TimeSpan.FromHours(1)),
                    new RateWindow("day", l.RunStartsPerDay, TimeSpan.FromDays(1)),
                ],
                [events.Create(RunEventTypes.Started, "Run accepted")]),
            ct);
        switch (result)
        {
            case CreateRunResult.Created c:
                queue.Notify();
                return new StartRunOutcome.Accepted(c.Run, Replayed: false);
            case CreateRunResult.Replayed r:
                return new StartRunOutcome.Accepted(r.Run, Replayed: true);
            case CreateRunResult.KeyConflict:
                return new StartRunOutcome.KeyConflict();
            case CreateRunResult.RateLimited limited:
                return new StartRunOutcome.RateLimited(limited.Decision);
            default:
                throw new InvalidOperationException("Unknown create result");
        }
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
        if (run.LeaseOwner is null && (run.Status == RunStatuses.Pending || run.Interactive))
        {
            var transition = run.Status == RunStatuses.Pending
                ? RunTransitions.CancelQueued(run.Id, time.GetUtcNow(), events)
                : RunTransitions.CancelReleased(run.Id, time.GetUtcNow(), events);
            var cancelled = await store.Runs.TransitionAsync(transition, ct);
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

/// <summary>What <see cref="RunService.StartAsync"/> did.</summary>
public abstract record StartRunOutcome
{
    private StartRunOutcome()
    {
    }

    /// <summary>Queued now, or the run this idempotency key already started (same request).</summary>
    public sealed record Accepted(RunRecord Run, bool Replayed) : StartRunOutcome;

    /// <summary>No repo of the caller's has that id.</summary>
    public sealed record RepoNotFound : StartRunOutcome;

    /// <summary>The request contradicts itself or the repo (the message is the documented 400 text).</summary>
    public sealed record Invalid(string Message) : StartRunOutcome;

    /// <summary>The key started a different request.</summary>
    public sealed record KeyConflict : StartRunOutcome;

    /// <summary>The token's run-start limit for a window was reached.</summary>
    public sealed record RateLimited(RateLimitDecision Decision) : StartRunOutcome;
}
