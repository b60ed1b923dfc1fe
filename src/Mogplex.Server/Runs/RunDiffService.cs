using Mogplex.Contracts.Runs;
using Mogplex.Server.Auth;
using Mogplex.Storage;

namespace Mogplex.Server.Runs;

/// <summary>
/// A run's changes (interactive.md): live from its sandbox while it works (answered by the node
/// that runs it), the delivered commit once it ended, nothing for a run that delivered nothing.
/// </summary>
public sealed class RunDiffService(IMogplexStore store, IRunDiffSource diffs, ILogger<RunDiffService> logger)
{
    public async Task<DiffOutcome> GetAsync(Caller caller, string runId, CancellationToken ct)
    {
        var run = await store.Runs.GetRunAsync(runId, caller.UserId, ct);
        if (run is null)
        {
            return new DiffOutcome.NotFound();
        }

        try
        {
            if (RunStatuses.IsTerminal(run.Status))
            {
                return new DiffOutcome.Found(run.Commit is null ? new RunDiffResult(null, null, [], "", false) : await diffs.CommitAsync(run.RepoId, run.Commit, ct));
            }

            if (await diffs.LiveAsync(run.Id, ct) is { } live)
            {
                return new DiffOutcome.Found(live);
            }

            // Queued, still preparing, or worked on by another node (sandboxes are node-local).
            return run.Status == RunStatuses.Pending && run.LeaseOwner is null
                ? new DiffOutcome.Found(new RunDiffResult(null, null, [], "", false))
                : new DiffOutcome.Unavailable("The run's sandbox is not on this server node or not ready yet; try again (or once the run ended)");
        }
        catch (RunDiffUnavailableException ex)
        {
            return new DiffOutcome.Unavailable(ex.Message);
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException && !ct.IsCancellationRequested)
        {
            // The run ended while its sandbox was read (its folder went), or git refused.
            logger.LogInformation(ex, "Run {RunId}: diff failed", runId);
            return new DiffOutcome.Unavailable("The diff could not be computed right now; try again");
        }
    }
}

/// <summary>What <see cref="RunDiffService.GetAsync"/> found.</summary>
public abstract record DiffOutcome
{
    private DiffOutcome()
    {
    }

    public sealed record Found(RunDiffResult Diff) : DiffOutcome;

    public sealed record NotFound : DiffOutcome;

    /// <summary>The run's live diff cannot be answered here now (the message says why).</summary>
    public sealed record Unavailable(string Message) : DiffOutcome;
}
