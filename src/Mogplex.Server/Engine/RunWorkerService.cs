using Microsoft.Extensions.Options;
using Mogplex.Contracts.Events;
using Mogplex.Contracts.Runs;
using Mogplex.Contracts.Sandboxes;
using Mogplex.Server.Configuration;
using Mogplex.Server.Engine.Sandboxes;
using Mogplex.Server.Events;
using Mogplex.Server.Runs;
using Mogplex.Storage;

namespace Mogplex.Server.Engine;

/// <summary>
/// The workers of <c>mogplexd serve</c>: claims pending runs up to <c>Runs:MaxConcurrent</c>, at
/// most <c>Runs:MaxConcurrentPerUser</c> active runs of one user (on all nodes; a run that ends
/// frees its slot and the loop claims again at once, so the user's next run is picked up), tells
/// the runs a claim pass left waiting why (<see cref="RunWaitAnnouncer"/>), fails
/// runs a previous process left active, reaps expired leases, stops idle sandboxes. On shutdown
/// every run in flight ends <c>failed</c> (<c>interrupted: mogplexd stopped</c>).
/// </summary>
public sealed class RunWorkerService(
    IMogplexStore store,
    RunExecutor executor,
    RunQueueSignal queue,
    RunWaitAnnouncer waits,
    RunEvents events,
    SandboxCheckouts checkouts,
    IOptionsMonitor<RunsOptions> runOptions,
    IOptionsMonitor<SandboxOptions> sandboxOptions,
    ServeSettings settings,
    TimeProvider time,
    ILogger<RunWorkerService> logger) : BackgroundService
{
    private static readonly TimeSpan s_maintenance = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await FailLeftoversAsync(stoppingToken);
        var running = new List<Task>();
        var lastMaintenance = DateTimeOffset.MinValue;

        // One outstanding wait on the queue signal at a time: a wait abandoned when a slot frees
        // would swallow the next "run accepted" signal and delay that run by a whole poll.
        Task<bool>? signalled = null;

        // Subscribed before each look at the queue: a run queued on another node in between completes it.
        var queuedElsewhere = store.Changes.NextChangeAsync(IRunChangeNotifier.QueueKey);
        while (!stoppingToken.IsCancellationRequested)
        {
            running.RemoveAll(t => t.IsCompleted);
            try
            {
                while (running.Count < runOptions.CurrentValue.MaxConcurrent)
                {
                    var limits = runOptions.CurrentValue;
                    var claim = new RunClaim(settings.NodeId, Guid.NewGuid().ToString("N"), time.GetUtcNow(), TimeSpan.FromSeconds(limits.LeaseSeconds), limits.ActivePerUserLimit);
                    var claimed = await store.Queue.ClaimNextAsync(claim, stoppingToken);
                    if (claimed is null)
                    {
                        break;
                    }

                    logger.LogInformation("Run {RunId} claimed ({Harness})", claimed.Id, claimed.Harness);
                    running.Add(Task.Run(() => executor.ExecuteAsync(claimed, stoppingToken), CancellationToken.None));
                }

                await waits.AnnounceAsync(workersBusy: running.Count >= runOptions.CurrentValue.MaxConcurrent, stoppingToken);

                if (DateTimeOffset.UtcNow - lastMaintenance > s_maintenance)
                {
                    lastMaintenance = DateTimeOffset.UtcNow;
                    await ReapExpiredAsync(stoppingToken);
                    await StopIdleSandboxesAsync(stoppingToken);
                    await checkouts.RemoveUnownedCheckoutsAsync(stoppingToken);
                }
            }
            catch (StorageUnavailableException ex)
            {
                logger.LogWarning(ex, "Storage unavailable; the workers retry");
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }

            var slotFreed = running.Count > 0 ? Task.WhenAny(running) : Task.Delay(Timeout.Infinite, stoppingToken);
            try
            {
                signalled ??= queue.WaitAsync(TimeSpan.FromSeconds(runOptions.CurrentValue.PollSeconds), stoppingToken);
                await Task.WhenAny(signalled, slotFreed, queuedElsewhere);
                if (queuedElsewhere.IsCompleted)
                {
                    queuedElsewhere = store.Changes.NextChangeAsync(IRunChangeNotifier.QueueKey);
                }

                if (signalled.IsCompleted)
                {
                    await signalled;
                    signalled = null;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
        }

        // Executors see the stopping token, kill their harnesses and record the interruption.
        await Task.WhenAll(running);
    }

    /// <summary>SQLite is one node: any run still held at start was left by a process that stopped or died.</summary>
    private async Task FailLeftoversAsync(CancellationToken ct)
    {
        var leftovers = store.ProviderName == "sqlite"
            ? await store.Queue.ListExpiredAsync(DateTimeOffset.MaxValue, ct)
            : await store.Queue.ListHeldByAsync(settings.NodeId, ct);
        foreach (var run in leftovers)
        {
            await FailOrKeepOpenAsync(run, "interrupted: mogplexd stopped", ct);
        }
    }

    /// <summary>A run whose lease expired lost its node; it is failed, never run again.</summary>
    private async Task ReapExpiredAsync(CancellationToken ct)
    {
        foreach (var run in await store.Queue.ListExpiredAsync(time.GetUtcNow(), ct))
        {
            if (run.LeaseOwner != settings.NodeId)
            {
                await FailOrKeepOpenAsync(run, $"interrupted: node {run.LeaseOwner} lost", ct);
            }
        }
    }

    /// <summary>
    /// A run its node left: failed, except an interactive run's conversation, which stays open
    /// (released to be claimed and resumed from its sandbox) — its running turn, if any, ends as
    /// interrupted when it resumes.
    /// </summary>
    private async Task FailOrKeepOpenAsync(RunRecord run, string reason, CancellationToken ct)
    {
        if (run.Interactive && run.Status == RunStatuses.Streaming && run.LeaseOwner is { } owner)
        {
            var kept = events.Create(RunEventTypes.Log, $"{reason[(reason.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim()}: the conversation stays open and resumes", payload: new System.Text.Json.Nodes.JsonObject { ["stage"] = "session", ["reason"] = "restart" });
            if (await store.Sessions.ReleaseAsync(run.Id, owner, time.GetUtcNow(), [kept], ct))
            {
                logger.LogWarning("Run {RunId}: {Reason}; its conversation stays open and resumes", run.Id, reason);
                queue.Notify();
                return;
            }
        }

        await FailAsync(run, reason, ct);
    }

    private async Task FailAsync(RunRecord run, string reason, CancellationToken ct)
    {
        var failed = await store.Runs.TransitionAsync(RunTransitions.Fail(run.Id, run.LeaseOwner, reason, time.GetUtcNow(), events), ct);
        if (failed is not null)
        {
            logger.LogWarning("Run {RunId} failed: {Reason}", run.Id, reason);
        }
    }

    private async Task StopIdleSandboxesAsync(CancellationToken ct)
    {
        var idleSince = time.GetUtcNow() - sandboxOptions.CurrentValue.IdleTimeout;
        var running = await store.Sandboxes.ListAsync(new SandboxQuery(null, null, SandboxStatuses.Running, 200), ct);
        foreach (var sandbox in running.Where(s => s.LastActiveAt < idleSince && checkouts.IsThisNodes(s)))
        {
            await checkouts.StopIdleAsync(sandbox, ct);
        }
    }
}
