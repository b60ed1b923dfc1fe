using Mogplex.Contracts.Runs;
using Mogplex.Storage;

namespace Mogplex.Server.Runs;

/// <summary>Maps stored runs to the wire shape.</summary>
public static class RunMapper
{
    public const string ApiBase = Mogplex.Contracts.ApiRoutes.Base;

    /// <param name="run">The run as stored.</param>
    /// <param name="pendingApprovals">How many of its approvals wait for a person (read only for runs in permission mode <c>approval</c>).</param>
    /// <param name="queue">Its place in the queue (<see cref="RunQueuePlaces"/>); shown only while the run is pending.</param>
    public static RunDetail ToDetail(RunRecord run, int pendingApprovals = 0, RunQueuePlace? queue = null) => new()
    {
        RunId = run.Id,
        AiCallId = run.AiCallId,
        SandboxRecordId = run.SandboxRecordId,
        SandboxId = run.SandboxId,
        RepoId = run.RepoId,
        Harness = run.Harness,
        Status = run.Status,
        Branch = new RunBranch(run.BaseBranch, run.WorkingBranch, run.CreateBranch),
        RootDirectory = run.RootDirectory,
        EventsUrl = ApiBase + Mogplex.Contracts.ApiRoutes.RunEvents(run.Id),
        CancelUrl = ApiBase + Mogplex.Contracts.ApiRoutes.RunCancel(run.Id),
        CreatedAt = run.CreatedAt,
        UpdatedAt = run.UpdatedAt,
        Error = run.Error,
        Runtime = new RunRuntime("mogplexd", run.RuntimeRunId),
        Usage = new RunUsage(run.InputTokens, run.CachedInputTokens, run.OutputTokens, run.CostUsd),
        StartedAt = run.StartedAt,
        FinishedAt = run.FinishedAt,
        Commit = run.Commit,
        PermissionMode = run.PermissionMode,
        PendingApprovals = pendingApprovals,
        Awaiting = RunStatuses.IsTerminal(run.Status) ? null
            : pendingApprovals > 0 ? "approval"
            : run.AwaitingInput ? "input"
            : null,
        Interactive = run.Interactive,
        Turns = run.Turns,
        Queue = run.Status == RunStatuses.Pending ? queue : null,
    };

    public static StartedRun ToStarted(RunRecord run, bool replayed, RunQueuePlace? queue = null) => new(ToDetail(run, queue: queue), replayed);
}
