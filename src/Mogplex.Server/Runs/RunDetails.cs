using Mogplex.Contracts.Runs;
using Mogplex.Storage;

namespace Mogplex.Server.Runs;

/// <summary>
/// One run's detail as <c>GET /runs/{id}</c> answers it: the record plus what is read beside it
/// (its pending approvals, its place in the queue). The events page carries the same detail.
/// </summary>
public sealed class RunDetails(IMogplexStore store, RunQueuePlaces places)
{
    public async Task<RunDetail> ForAsync(RunRecord run, CancellationToken ct)
    {
        // Only a run in approval mode can wait for a person: the others cost no second read.
        var pending = run.PermissionMode == "approval" ? (await store.Approvals.ListAsync(run.Id, pendingOnly: true, ct)).Count : 0;
        return RunMapper.ToDetail(run, pending, await places.ForAsync(run, ct));
    }
}
