using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Mogplex.Contracts.Events;
using Mogplex.Contracts.Runs;
using Mogplex.Server.Configuration;
using Mogplex.Server.Engine.Delivery;
using Mogplex.Server.Engine.Harnesses;
using Mogplex.Server.Engine.Isolation;
using Mogplex.Server.Engine.Network;
using Mogplex.Server.Engine.Processes;
using Mogplex.Server.Engine.Sandboxes;
using Mogplex.Server.Events;
using Mogplex.Server.Runs;
using Mogplex.Server.Runs.Permissions;
using Mogplex.Storage;

namespace Mogplex.Server.Engine;

/// <summary>
/// Executes one claimed run: sandbox, harness, events, delivery, finish. Every exit path ends the
/// run in a terminal status through a transition fenced on this node's lease; cancellation,
/// shutdown and timeout each get their own outcome.
/// </summary>
public sealed class RunExecutor(
    IMogplexStore store,
    RunEvents events,
    SandboxPreparer sandboxes,
    HarnessRegistry harnesses,
    GitDelivery delivery,
    RunDiffs diffs,
    IsolationResolver isolation,
    RunLimits limits,
    RunCancellations cancellations,
    IOptionsMonitor<RunsOptions> options,
    IOptionsMonitor<SandboxOptions> sandboxOptions,
    IOptionsMonitor<HarnessOptions> harnessSettings,
    ServeSettings settings,
    TimeProvider time,
    ILogger<RunExecutor> logger)
{
    private static readonly TimeSpan s_cancelRecheck = TimeSpan.FromMilliseconds(200);

    public async Task ExecuteAsync(RunRecord run, CancellationToken stopping)
    {
        var owner = run.LeaseOwner!;
        var cancel = cancellations.Register(run.Id);
        var runOptions = options.CurrentValue;
        using var breach = new LimitBreach();
        using var runCts = CancellationTokenSource.CreateLinkedTokenSource(stopping, cancel.Token, breach.Token);
        runCts.CancelAfter(runOptions.MaxDuration);
        var clock = new TurnClock(runCts, runOptions.MaxDuration);
        using var heartbeat = StartHeartbeat(run.Id, owner, cancel, runCts.Token);
        var remoteCancel = WatchForCancelAsync(run.Id, cancel, runCts.Token);
        PreparedSandbox? sandbox = null;
        RunCgroup? cgroup = null;
        try
        {
            cgroup = limits.Create(run.Id);
            // A stop of mogplexd keeps an interactive run's conversation (its harness state) for the restart.
            bool KeepConversation() => run.Interactive && stopping.IsCancellationRequested && !cancel.IsCancellationRequested && breach.Reason is null;
            await RunPhasesAsync(run, owner, cgroup, breach, clock, KeepConversation, sandbox: s => sandbox = s, runCts.Token);
        }
        catch (OperationCanceledException) when (runCts.IsCancellationRequested)
        {
            if (breach.Reason is { } reason)
            {
                await FailAsync(run.Id, owner, reason);
            }
            else if (cancel.IsCancellationRequested)
            {
                await FinishAsync(RunTransitions.Cancel(run.Id, owner, time.GetUtcNow(), events));
            }
            else if (stopping.IsCancellationRequested)
            {
                // An interactive run's conversation outlives a stop: it is claimed again and resumed.
                var kept = events.Create(RunEventTypes.Log, "mogplexd stopped: the conversation stays open and resumes", payload: new JsonObject { ["stage"] = "session", ["reason"] = "restart" });
                if (!run.Interactive || !await store.Sessions.ReleaseAsync(run.Id, owner, time.GetUtcNow(), [kept], CancellationToken.None))
                {
                    await FailAsync(run.Id, owner, "interrupted: mogplexd stopped");
                }
            }
            else
            {
                await FailAsync(run.Id, owner, $"timed out after {runOptions.MaxDuration}");
            }
        }
        catch (EngineException ex)
        {
            await FailAsync(run.Id, owner, breach.Reason ?? ex.Message);
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Run {RunId} failed unexpectedly", run.Id);
            await FailAsync(run.Id, owner, "internal error: " + ex.Message);
        }
        finally
        {
            await runCts.CancelAsync();
            await remoteCancel;
            cancellations.Unregister(run.Id);

            // Whatever of the run still lives (a daemon it started, in its control group) ends with it.
            cgroup?.Dispose();
            sandbox?.Lease.Dispose();
        }
    }

    /// <summary>
    /// A cancel sent to another node reaches the node that executes the run through the store:
    /// wake on the run's change notifications (LISTEN/NOTIFY across PostgreSQL nodes, in process on
    /// SQLite), re-read the run at most every <see cref="s_cancelRecheck"/>, stop at the flag. The
    /// heartbeat's read is the backstop. Real time, like the heartbeat: this is plumbing, not business time.
    /// </summary>
    private async Task WatchForCancelAsync(string runId, CancellationTokenSource cancel, CancellationToken ct)
    {
        try
        {
            while (!ct.IsCancellationRequested && !cancel.IsCancellationRequested)
            {
                var changed = store.Changes.NextChangeAsync(runId);
                await Task.WhenAny(changed, Task.Delay(TimeSpan.FromSeconds(options.CurrentValue.LeaseSeconds) / 3, ct));
                ct.ThrowIfCancellationRequested();
                var run = await store.Runs.GetRunAsync(runId, null, ct);
                if (run?.CancelRequestedAt is not null)
                {
                    await cancel.CancelAsync();
                    return;
                }

                // A chatty run changes with every event batch: look at most this often.
                await Task.Delay(s_cancelRecheck, ct);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or StorageUnavailableException)
        {
            Debug.WriteLine(ex.Message);
        }
    }

    private async Task RunPhasesAsync(RunRecord run, string owner, RunCgroup cgroup, LimitBreach breach, TurnClock clock, Func<bool> keepConversation, Action<PreparedSandbox> sandbox, CancellationToken ct)
    {
        if (isolation.Refusal is { } refusal)
        {
            throw new EngineException(refusal);
        }

        var current = await store.Runs.GetRunAsync(run.Id, null, ct);
        if (current?.CancelRequestedAt is not null)
        {
            throw new OperationCanceledException(ct);
        }

        var harness = harnesses.Find(run.Harness) ?? throw new EngineException($"harness '{run.Harness}' is not enabled on this server");
        var repo = await store.Repos.GetRepoAsync(run.RepoId, null, ct) ?? throw new EngineException("the repo was removed");
        if (isolation.Warning is { } warning)
        {
            await AppendAsync(run.Id, events.Create(RunEventTypes.Log, "Warning: " + warning, payload: new JsonObject { ["stage"] = "sandbox", ["isolation"] = "none" }));
        }

        // Streaming already: an interactive run kept open across a restart, resumed in its sandbox.
        // Whatever of its earlier harness still lives in its control group ends first.
        var resuming = run.Status == RunStatuses.Streaming;
        if (resuming)
        {
            cgroup.KillAll();
        }

        await AppendAsync(run.Id, events.Create(RunEventTypes.Log, resuming ? "Resuming the conversation in its sandbox" : "Preparing sandbox", payload: new JsonObject { ["stage"] = "sandbox", ["node"] = settings.NodeId }));

        await using var egress = StartEgress(run);
        var confinement = new RunConfinement(
            isolation.Network,
            egress?.Bridge,
            egress?.Environment ?? new Dictionary<string, string>(),
            user => limits.For(cgroup, ownUid: user is not null));
        PreparedSandbox prepared;
        using var watchdog = new RunWatchdog(cgroup, breach, options.CurrentValue, sandboxOptions.CurrentValue);
        try
        {
            prepared = resuming
                ? await sandboxes.ResumeAsync(run, ct)
                : await sandboxes.PrepareAsync(run, repo, confinement, e => AppendAsync(run.Id, e), ct);
        }
        catch (InvalidOperationException ex) when (!ct.IsCancellationRequested)
        {
            throw new EngineException("sandbox preparation failed: " + ex.Message);
        }

        sandbox(prepared);
        watchdog.WatchDisk(prepared.CheckoutDirectory, prepared.HomeDirectory);

        // GET /runs/{id}/diff answers from this sandbox while the run holds it.
        using var diffable = diffs.Register(run.Id, diffCt => delivery.DiffAsync(run, prepared, confinement, diffCt));
        var streaming = resuming
            ? await ResumedAsync(run, owner, ct)
            : await store.Runs.TransitionAsync(RunTransitions.StartStreaming(run.Id, owner, prepared.Record, time.GetUtcNow(), events), ct);
        if (streaming is null)
        {
            // Cancelled while we prepared, or our lease was taken: the run is not ours any more.
            throw new OperationCanceledException(ct);
        }

        if (run.Interactive && !resuming)
        {
            // Delivered against it at the end, also when a restart comes between.
            await store.Sessions.UpdateAsync(new RunSessionUpdate(run.Id, owner, time.GetUtcNow()) { StartCommit = prepared.StartCommit }, ct);
        }

        var (exitCode, parser, sanitizer, finished, finishedByInterrupt) = await StreamHarnessAsync(streaming, owner, harness, prepared, confinement, watchdog, clock, resuming, firstTurnCut: run.Turns == 0 || (run.Turns == 1 && !run.AwaitingInput), keepConversation, ct);
        watchdog.Check();
        ct.ThrowIfCancellationRequested();
        var outcome = finishedByInterrupt ? HarnessOutcome.Success : parser.Complete(exitCode);
        if (run.Interactive && !finished)
        {
            // Nobody finished it: the harness went away (or refused the conversation) on its own.
            var why = outcome.Succeeded ? $"the harness ended the conversation before it was finished (exit code {exitCode})" : outcome.Error;
            throw new EngineException(watchdog.Explain(sanitizer.SanitizeString(why ?? "the harness ended the conversation")));
        }

        if (!outcome.Succeeded)
        {
            // The harness's own words (e.g. Codex's turn.failed message) may quote its secrets.
            throw new EngineException(watchdog.Explain(sanitizer.SanitizeString(outcome.Error ?? $"harness exited with code {exitCode}")));
        }

        // Nothing of the harness outlives it into delivery (a daemon it left in its control group).
        cgroup.KillAll();
        var delivered = await DeliverAsync(streaming, repo, prepared, confinement, ct);
        await FinishAsync(RunTransitions.Succeed(run.Id, owner, delivered.Commit, time.GetUtcNow(), events));
    }

    /// <returns>The exit code, the parser (for the outcome), the sanitizer, whether an interactive run was finished (by a person or the idle limit), and whether that finish interrupted its last turn.</returns>
    private async Task<(int ExitCode, IHarnessOutputParser Parser, EventSanitizer Sanitizer, bool Finished, bool FinishedByInterrupt)> StreamHarnessAsync(RunRecord run, string owner, IHarness harness, PreparedSandbox sandbox, RunConfinement confinement, RunWatchdog watchdog, TurnClock clock, bool resuming, bool firstTurnCut, Func<bool> keepConversation, CancellationToken ct)
    {
        var mirror = DataDirectory.MirrorPath(settings.DataDir, run.RepoId);
        var context = new HarnessContext(run, sandbox.WorkingDirectory, sandbox.HomeDirectory, sandbox.Directory, sandbox.CheckoutDirectory) { Resume = resuming };
        // A harness saves its conversation lazily: only one cut short in its first turn can be missing.
        if (resuming && firstTurnCut && !harness.ConversationSaved(context))
        {
            context = context with { CarryPrompt = true };
            await AppendAsync(run.Id, events.Create(RunEventTypes.Log, $"{harness.Name} had not saved the conversation before the restart: a new one starts, and the next message carries the run's prompt", payload: new JsonObject { ["stage"] = "session", ["reason"] = "not_saved" }));
        }

        var built = harness.BuildProcess(context);
        if (sandbox.User is not null)
        {
            // The harness may have made folders in its home (CODEX_HOME): they are the sandbox's.
            await SandboxUsers.GiveAsync(sandbox.HomeDirectory, sandbox.User, ct);
        }

        var spec = isolation.Confine(built, confinement.ForHarness(sandbox.Directory, sandbox.CheckoutDirectory, sandbox.HomeDirectory, mirror, sandbox.User));
        spec = spec with { MaxLineBytes = options.CurrentValue.MaxLineBytes };
        var parser = harness.CreateParser(context);
        var runEvents = events.WithSecrets(spec.Secrets);
        var usage = new UsageTotals();

        // Disposed after the process (declared before it): the harness's state, which can hold its
        // environment, goes once nothing runs in the sandbox any more, whatever ended the run.
        using var state = new HarnessStateRemoval(sandbox.Directory, spec.StateDirectories, logger, keepConversation);
        await using var batcher = new RunEventBatcher(store.Events, run.Id, time);
        await using var process = HarnessProcess.Start(spec, isolation.Mode);
        var session = parser as ISessionProtocol;
        // The output loop and the approvals watcher both talk to the session: one at a time.
        var gate = new object();
        if (session is not null)
        {
            WriteSession(process, session, run.Interactive);
        }

        // Every event of the harness's making counts toward Runs:MaxEvents, its asks' answers too.
        var limit = new OutputEventLimit(options.CurrentValue.MaxEvents);
        async Task StoreLimitedAsync(NewRunEvent e)
        {
            if (limit.TryAdmit())
            {
                await batcher.AddAsync(e, CancellationToken.None);
            }
            else if (limit.DroppedEvents == 1)
            {
                await batcher.AddAsync(limit.Notice(runEvents), CancellationToken.None);
            }
        }

        await using var approvals = session is not null && run.PermissionMode == "approval"
            ? new ApprovalBroker(
                store,
                runEvents,
                time,
                run.Id,
                RunPermissions.Resolver(run.PermissionMode, run.PermissionsJson),
                session,
                lines => WriteLines(process, lines),
                () => batcher.DrainAsync(),
                StoreLimitedAsync,
                gate,
                options.CurrentValue.ApprovalTimeout,
                logger)
            : null;
        await using var driver = session is null ? null : new SessionDriver(
            store,
            runEvents,
            time,
            run,
            owner,
            session,
            gate,
            lines => WriteLines(process, lines),
            process.CloseInput,
            () => batcher.DrainAsync(),
            options.CurrentValue.InteractiveIdle,
            clock,
            logger);
        driver?.Start();

        var grace = TimeSpan.FromSeconds(options.CurrentValue.StopGraceSeconds);
        Task? stopping = null;
        using (ct.Register(() => stopping = process.StopAsync(grace)))
        {
            // Not cancellable: a stop kills the process group, its pipes close, and every line it
            // printed before is still stored (up to Runs:MaxEvents; past it every line is still
            // parsed, for the usage and the outcome, and only counted).
            async Task StoreAsync(IEnumerable<HarnessEvent> harnessEvents)
            {
                foreach (var e in harnessEvents)
                {
                    usage.Add(e.Usage);
                    await StoreLimitedAsync(runEvents.Create(e.Type, e.Message, e.ToolName, e.Payload));
                }
            }

            async Task StoreTurnsAsync(IEnumerable<SessionSignal> turns)
            {
                foreach (var turn in turns)
                {
                    if (TurnEvent(runEvents, turn) is { } turnEvent)
                    {
                        await StoreLimitedAsync(turnEvent);
                    }

                    if (turn is SessionSignal.TurnCompleted && usage.Any)
                    {
                        // Each turn's usage reaches the run's totals as the turn ends.
                        await store.Queue.AddUsageAsync(run.Id, usage.TakeDelta(), CancellationToken.None);
                    }
                }
            }

            await foreach (var line in process.Lines.ReadAllAsync(CancellationToken.None))
            {
                limit.StartLine();
                watchdog.Observe(line.Text);
                IReadOnlyList<HarnessEvent> parsed;
                IReadOnlyList<SessionSignal> signals = [];
                lock (gate)
                {
                    parsed = parser.Parse(line);
                    if (session is not null)
                    {
                        signals = session.TakeSignals();
                    }
                }

                // In order: a turn that starts, what the line said, then the turn that ended and
                // the asks (what the harness printed before an ask is stored before it).
                await StoreTurnsAsync(signals.OfType<SessionSignal.TurnStarted>());
                await StoreAsync(parsed);
                await StoreTurnsAsync(signals.OfType<SessionSignal.TurnCompleted>());
                if (approvals is not null && signals.Count > 0)
                {
                    await approvals.HandleAsync(signals);
                }

                if (driver is not null && signals.Count > 0)
                {
                    await driver.HandleAsync(signals);
                }

                if (session is not null)
                {
                    lock (gate)
                    {
                        WriteSession(process, session, run.Interactive);
                    }
                }
            }

            var exit = await process.WaitForExitAsync(CancellationToken.None);
            if (limit.DroppedEvents > 0)
            {
                await batcher.AddAsync(limit.Summary(runEvents), CancellationToken.None);
            }

            await batcher.FlushAsync();
            if (stopping is not null)
            {
                await stopping;
            }

            if (usage.Any)
            {
                await store.Queue.AddUsageAsync(run.Id, usage.TakeDelta(), CancellationToken.None);
            }

            return (exit, parser, runEvents.Sanitizer, driver?.Finishing ?? false, driver?.FinishedByInterrupt ?? false);
        }
    }

    /// <summary>
    /// What a restart left of an interactive run is settled before its conversation resumes: a turn
    /// that was running ends <c>interrupted</c> (<c>by: restart</c>), approvals nobody answered
    /// expire (their harness process is gone: it asks again if it still wants to), and the run waits
    /// for input. Returns the run as stored, or null when it is no longer ours.
    /// </summary>
    private async Task<RunRecord?> ResumedAsync(RunRecord run, string owner, CancellationToken ct)
    {
        foreach (var approval in await store.Approvals.ListAsync(run.Id, pendingOnly: true, ct))
        {
            var expired = ApprovalService.Decided(events, approval, "reject", "restart", rule: null, reason: "mogplexd restarted before it was answered", via: null);
            await store.Approvals.DecideAsync(new ApprovalDecision(run.Id, approval.Id, ApprovalStatuses.Expired, "restart", null, "mogplexd restarted before it was answered", time.GetUtcNow(), [expired]), ct);
        }

        var settled = new List<NewRunEvent>();
        if (!run.AwaitingInput && run.Turns > 0)
        {
            settled.Add(events.Create(RunEventTypes.TurnCompleted, "Turn interrupted", payload: new JsonObject { ["turnId"] = null, ["status"] = "interrupted", ["by"] = "restart", ["error"] = null, ["usage"] = null }));
        }

        settled.Add(events.Create(RunEventTypes.Log, "Resumed: the conversation goes on with the next message", payload: new JsonObject { ["stage"] = "session", ["turns"] = run.Turns }));
        return await store.Sessions.UpdateAsync(new RunSessionUpdate(run.Id, owner, time.GetUtcNow()) { AwaitingInput = true, Events = settled }, ct)
            ? await store.Runs.GetRunAsync(run.Id, null, ct)
            : null;
    }

    /// <summary><c>turn_started</c> / <c>turn_completed</c> (with the turn's own usage) for a session's turn signals; null for other signals.</summary>
    private static NewRunEvent? TurnEvent(RunEvents events, SessionSignal signal) => signal switch
    {
        SessionSignal.TurnStarted s => events.Create(RunEventTypes.TurnStarted, "Turn started", payload: new JsonObject { ["turnId"] = s.TurnId }),
        SessionSignal.TurnCompleted c => events.Create(RunEventTypes.TurnCompleted, c.Status == "completed" ? "Turn completed" : $"Turn {c.Status}", payload: new JsonObject
        {
            ["turnId"] = c.TurnId,
            ["status"] = c.Status,
            ["error"] = c.Error,
            ["usage"] = c.Usage is { } u ? new JsonObject { ["input"] = u.InputTokens, ["cachedInput"] = u.CachedInputTokens, ["output"] = u.OutputTokens, ["costUsd"] = u.CostUsd } : null,
        }),
        _ => null,
    };

    private static void WriteLines(HarnessProcess process, IReadOnlyList<string> lines)
    {
        foreach (var line in lines)
        {
            process.WriteLine(line);
        }
    }

    /// <summary>What the session protocol wants written (requests, answers), then EOF once its one turn has ended (an interactive run's input closes at finish).</summary>
    private static void WriteSession(HarnessProcess process, ISessionProtocol session, bool interactive)
    {
        foreach (var write in session.TakeWrites())
        {
            process.WriteLine(write);
        }

        if (interactive ? session.Broken : session.TurnEnded)
        {
            process.CloseInput();
        }
    }

    private async Task<DeliveryResult> DeliverAsync(RunRecord run, RepoRecord repo, PreparedSandbox sandbox, RunConfinement confinement, CancellationToken ct)
    {
        DeliveryResult result;
        try
        {
            result = await delivery.DeliverAsync(run, repo, sandbox, confinement, ct);
        }
        catch (InvalidOperationException ex) when (!ct.IsCancellationRequested)
        {
            throw new EngineException("delivery failed: " + ex.Message);
        }

        var payload = new JsonObject
        {
            ["stage"] = "git_delivery",
            ["branch"] = run.WorkingBranch,
            ["commit"] = result.Commit,
            ["files"] = new JsonArray([.. result.ChangedFiles.Select(f => (JsonNode?)JsonValue.Create(f))]),
        };
        if (result.SkippedRepositories.Count > 0)
        {
            payload["skippedRepositories"] = new JsonArray([.. result.SkippedRepositories.Select(f => (JsonNode?)JsonValue.Create(f))]);
            await AppendAsync(run.Id, events.Create(
                RunEventTypes.Log,
                $"Not delivered: {string.Join(", ", result.SkippedRepositories)} (a folder with its own .git is a nested repository; its files are not part of a delivery)",
                payload: new JsonObject { ["stage"] = "git_delivery" }));
        }

        await AppendAsync(run.Id, events.Create(
            RunEventTypes.Log,
            result.Commit is null ? "No code changes to deliver" : $"Delivered {result.Commit[..12]} to {run.WorkingBranch} ({result.ChangedFiles.Count} files changed)",
            payload: payload));
        return result;
    }

    private Task FailAsync(string runId, string owner, string error) =>
        FinishAsync(RunTransitions.Fail(runId, owner, error, time.GetUtcNow(), events));

    private async Task FinishAsync(RunTransition transition)
    {
        if (await store.Runs.TransitionAsync(transition, CancellationToken.None) is null)
        {
            logger.LogInformation("Run {RunId} was already finished elsewhere; {Status} not recorded", transition.RunId, transition.To);
        }
    }

    /// <summary>
    /// The run's egress proxy and loopback forwards (<c>Sandbox:Network=model</c>): a connection it
    /// refuses is a <c>log</c> event naming the host, once per host and port.
    /// </summary>
    private RunEgress? StartEgress(RunRecord run)
    {
        if (isolation.Network != SandboxNetworkMode.Model)
        {
            return null;
        }

        var harnessOptions = harnessSettings.CurrentValue;
        var refused = new System.Collections.Concurrent.ConcurrentDictionary<string, byte>(StringComparer.Ordinal);
        var directory = Path.Combine(settings.DataDir, "egress", run.Id.Replace("-", "", StringComparison.Ordinal)[^16..]);
        return RunEgress.Start(
            directory,
            EgressPolicy.Create(harnessOptions, sandboxOptions.CurrentValue),
            EgressPolicy.ModelEndpoints(harnessOptions),
            (host, port) =>
            {
                var target = EgressHost.Format(host, port);
                if (refused.TryAdd(target, 0))
                {
                    _ = AppendAsync(run.Id, events.Create(
                        RunEventTypes.Log,
                        $"Refused a connection to {target}: not a model endpoint nor in Sandbox:AllowedHosts",
                        payload: new JsonObject { ["stage"] = "network", ["host"] = host, ["port"] = port }));
                }
            });
    }

    private async Task AppendAsync(string runId, NewRunEvent e) => await store.Events.AppendAsync(runId, [e], time.GetUtcNow(), CancellationToken.None);

    /// <summary>Renews the lease every third of it, stops the harness when the lease is lost, and picks up a cancel flag stored by any node.</summary>
    private Timer StartHeartbeat(string runId, string owner, CancellationTokenSource cancel, CancellationToken ct)
    {
        var lease = TimeSpan.FromSeconds(options.CurrentValue.LeaseSeconds);
        return new Timer(
            _ => _ = BeatAsync(),
            null,
            lease / 3,
            lease / 3);

        async Task BeatAsync()
        {
            try
            {
                if (!await store.Queue.HeartbeatAsync(runId, owner, time.GetUtcNow(), lease, ct))
                {
                    // The lease is gone: another node failed the run as lost (this node was paused
                    // or cut off past the lease) or it already ended. Stop the harness; every write
                    // this node would still make is fenced on the lease and has no effect.
                    logger.LogWarning("Run {RunId}: lease lost; stopping its harness", runId);
                    await cancel.CancelAsync();
                    return;
                }

                var run = await store.Runs.GetRunAsync(runId, null, ct);
                if (run?.CancelRequestedAt is not null && !cancel.IsCancellationRequested)
                {
                    cancel.Cancel();
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or StorageUnavailableException)
            {
                Debug.WriteLine(ex.Message);
            }
        }
    }

    private sealed class UsageTotals
    {
        private long? _input;
        private long? _cached;
        private long? _output;
        private decimal? _cost;

        public bool Any => _input is not null || _cached is not null || _output is not null || _cost is not null;

        public void Add(UsageDelta? u)
        {
            if (u is null)
            {
                return;
            }

            _input = Sum(_input, u.InputTokens);
            _cached = Sum(_cached, u.CachedInputTokens);
            _output = Sum(_output, u.OutputTokens);
            _cost = u.CostUsd is null ? _cost : (_cost ?? 0) + u.CostUsd;
        }

        /// <summary>What was added since the last call; the totals start again from nothing.</summary>
        public UsageDelta TakeDelta()
        {
            var delta = new UsageDelta(_input, _cached, _output, _cost);
            (_input, _cached, _output, _cost) = (null, null, null, null);
            return delta;
        }

        private static long? Sum(long? a, long? b) => b is null ? a : (a ?? 0) + b;
    }
}
