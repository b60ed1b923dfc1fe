using Microsoft.Extensions.Options;
using Mogplex.Contracts.Runs;
using Mogplex.Server.Configuration;
using Mogplex.Storage;

namespace Mogplex.Server.Runs;

/// <summary>
/// [beyond] issue #13: why a pending run waits and its place (the run detail's <c>queue</c>), read
/// from the database when asked, so that every node answers the same. Only runs that can wait
/// (pending, unclaimed, not being cancelled) cost a read, and a page of runs costs one.
/// </summary>
public sealed class RunQueuePlaces(IMogplexStore store, IOptionsMonitor<RunsOptions> runs)
{
    /// <summary>True for a run the workers have yet to claim: only such a run has a place in the queue.</summary>
    public static bool MayWait(RunRecord run) =>
        run.Status == RunStatuses.Pending && run.LeaseOwner is null && run.CancelRequestedAt is null;

    /// <summary>The places of those of <paramref name="shown"/> that wait, by run id (one read, none when no run waits).</summary>
    public async Task<IReadOnlyDictionary<string, RunQueuePlace>> ForAsync(IEnumerable<RunRecord> shown, CancellationToken ct)
    {
        var ids = shown.Where(MayWait).Select(r => r.Id).ToList();
        if (ids.Count == 0)
        {
            return new Dictionary<string, RunQueuePlace>();
        }

        var waits = await store.Queue.ListWaitingAsync(new RunWaitQuery(runs.CurrentValue.ActivePerUserLimit, ids), ct);
        return waits.ToDictionary(w => w.RunId, w => new RunQueuePlace(w.Position, w.WaitingFor), StringComparer.Ordinal);
    }

    /// <summary>The place of <paramref name="run"/>, or null when it does not wait.</summary>
    public async Task<RunQueuePlace?> ForAsync(RunRecord run, CancellationToken ct) =>
        MayWait(run) ? (await ForAsync([run], ct)).GetValueOrDefault(run.Id) : null;
}
