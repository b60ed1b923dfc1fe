using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Mogplex.Contracts.Events;
using Mogplex.Contracts.Runs;
using Mogplex.Server.Configuration;
using Mogplex.Server.Events;
using Mogplex.Storage;

namespace Mogplex.Server.Engine;

/// <summary>
/// [beyond] issue #13: after a claim pass, tells each run the pass left waiting why, with a
/// <c>log</c> event (stage <c>queue</c>), once per reason: the store records the reason announced
/// and appends the event only when the reason changed, fenced on the row, so a second pass, or a
/// pass of another node, appends nothing more. A node reports "waiting for a worker" only when its
/// own workers are all busy: when it has a free one, a claimable run is its to claim next.
/// </summary>
public sealed class RunWaitAnnouncer(IMogplexStore store, RunEvents events, IOptionsMonitor<RunsOptions> runs, TimeProvider time, ILogger<RunWaitAnnouncer> logger)
{
    /// <param name="workersBusy">Every worker of this node holds a run (the claim pass stopped for that, not for lack of a claimable run).</param>
    /// <param name="ct">Stops the pass.</param>
    public async Task AnnounceAsync(bool workersBusy, CancellationToken ct)
    {
        var limit = runs.CurrentValue.ActivePerUserLimit;
        var waits = await store.Queue.ListWaitingAsync(new RunWaitQuery(limit, OnlyUnannounced: true), ct);
        foreach (var wait in waits)
        {
            if (wait.WaitingFor == RunWaitReasons.Worker && !workersBusy)
            {
                continue;
            }

            var announcement = events.Create(
                RunEventTypes.Log,
                Message(wait, limit),
                payload: new JsonObject { ["stage"] = "queue", ["waitingFor"] = wait.WaitingFor, ["position"] = wait.Position });
            if (await store.Queue.AnnounceWaitAsync(wait.RunId, wait.WaitingFor, announcement, time.GetUtcNow(), ct))
            {
                logger.LogInformation("Run {RunId} waits for {WaitingFor} (position {Position})", wait.RunId, wait.WaitingFor, wait.Position);
            }
        }
    }

    /// <summary>The event's message, e.g. <c>Waiting for a free worker (position 3)</c>.</summary>
    public static string Message(RunWait wait, int limit) => wait.WaitingFor switch
    {
        RunWaitReasons.Branch => $"Waiting for branch {wait.WorkingBranch}: another run of this branch is active or goes first (position {wait.Position})",
        RunWaitReasons.UserLimit => $"Waiting: your limit of {limit} active runs is reached (position {wait.Position})",
        _ => $"Waiting for a free worker (position {wait.Position})",
    };
}
