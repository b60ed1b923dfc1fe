using System.Text.Json;
using System.Text.Json.Nodes;
using Mogplex.Contracts.Events;
using Mogplex.Server.Engine.Harnesses;
using Mogplex.Server.Events;
using Mogplex.Server.Runs;
using Mogplex.Server.Runs.Permissions;
using Mogplex.Storage;

namespace Mogplex.Server.Engine;

/// <summary>
/// One run's asks (interactive.md): each <see cref="SessionSignal.ApprovalAsked"/> goes through the
/// run's <see cref="PermissionResolver"/>; <c>allow</c> and <c>deny</c> are answered at once and
/// recorded (<c>approval_decided</c>, by rule or mode), <c>ask</c> is stored pending
/// (<c>approval_requested</c>) for a person on any node. A watcher wakes on the run's change
/// notifications, passes each decision to the harness, and rejects what waited longer than
/// <c>Runs:ApprovalTimeout</c>. An ask the harness withdrew (its turn ended) expires.
/// Every call into the session happens under <paramref name="gate"/>: the output loop uses it too.
/// </summary>
public sealed class ApprovalBroker(
    IMogplexStore store,
    RunEvents events,
    TimeProvider time,
    string runId,
    PermissionResolver resolver,
    ISessionProtocol session,
    Action<IReadOnlyList<string>> write,
    Func<Task> flushEvents,
    Func<NewRunEvent, Task> record,
    object gate,
    TimeSpan timeout,
    ILogger logger) : IAsyncDisposable
{
    /// <summary>Asks that may wait for a person at once; a harness that asks more gets a rejection, nothing is stored.</summary>
    public const int MaxWaiting = 32;

    /// <summary>Approval id → the harness's reference and what it is about, for asks waiting for a person.</summary>
    private readonly Dictionary<string, (string Ref, string Target)> _waiting = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private Task? _watcher;

    /// <summary>Acts on the signals the session gave since the last call.</summary>
    public async Task HandleAsync(IReadOnlyList<SessionSignal> signals)
    {
        foreach (var signal in signals)
        {
            switch (signal)
            {
                case SessionSignal.ApprovalAsked asked:
                    await AskedAsync(asked);
                    break;
                case SessionSignal.ApprovalWithdrawn withdrawn:
                    await WithdrawnAsync(withdrawn.Ref);
                    break;
            }
        }
    }

    private async Task AskedAsync(SessionSignal.ApprovalAsked asked)
    {
        var call = asked.Call;
        var resolution = resolver.Resolve(call);
        int waitingNow;
        lock (_waiting)
        {
            waitingNow = _waiting.Count;
        }

        if (resolution.Verdict != Verdict.Ask || waitingNow >= MaxWaiting)
        {
            // Answered now. The event goes the way of the harness's output, under Runs:MaxEvents:
            // a harness that floods asks cannot store more than its output could.
            var approve = resolution.Verdict == Verdict.Allow;
            var reason = approve ? null
                : resolution.Verdict == Verdict.Ask ? $"too many approvals waiting (at most {MaxWaiting})"
                : $"denied by mogplex rule {resolution.Rule?.Text ?? "(the permission mode)"}";
            Answer(asked.Ref, approve, reason);
            await record(ApprovalService.Decided(events, null, approve ? "approve" : "reject", resolution.Verdict == Verdict.Ask ? "limit" : resolution.By, resolution.Rule, reason, via: null, approvalId: null, target: call.Target));
            return;
        }

        var id = Guid.CreateVersion7(time.GetUtcNow()).ToString();
        var details = new JsonObject { ["command"] = call.Command, ["cwd"] = call.Cwd };
        if (call.Changes is { } changes)
        {
            details["changes"] = new JsonArray([.. changes.Select(c => (JsonNode?)new JsonObject { ["path"] = c.Path, ["kind"] = c.Kind, ["diff"] = c.Diff })]);
        }

        var descriptors = new JsonArray([.. call.Descriptors.Select(d => (JsonNode?)JsonValue.Create(d.ToString()))]);
        var approval = new ApprovalRecord
        {
            Id = id,
            RunId = runId,
            Status = ApprovalStatuses.Pending,
            Action = call.Action,
            DescriptorsJson = events.Sanitizer.SanitizeString(descriptors.ToJsonString()),
            Target = events.Sanitizer.SanitizeString(call.Target),
            Risk = call.Risk.ToString().ToLowerInvariant(),
            ToolName = call.ToolName,
            TurnId = asked.TurnId,
            HarnessRef = asked.Ref,
            DetailsJson = events.Sanitizer.SanitizeString(details.ToJsonString()),
            CreatedAt = time.GetUtcNow(),
        };
        var requested = events.Create(RunEventTypes.ApprovalRequested, $"{call.Action}: {call.Target} (approval {id}: mogplex runs approve|reject)", call.ToolName, new JsonObject
        {
            ["approvalId"] = id,
            ["action"] = call.Action,
            ["descriptors"] = descriptors,
            ["target"] = call.Target,
            ["risk"] = approval.Risk,
            ["toolName"] = call.ToolName,
            ["turnId"] = asked.TurnId,
            ["details"] = details.DeepClone(),
        });
        lock (_waiting)
        {
            _waiting[id] = (asked.Ref, approval.Target);
        }

        await flushEvents();
        await store.Approvals.AddAsync(approval, [requested], CancellationToken.None);
        _watcher ??= WatchAsync(_stop.Token);
    }

    private async Task WithdrawnAsync(string reference)
    {
        string? id;
        var target = "";
        lock (_waiting)
        {
            id = _waiting.FirstOrDefault(w => w.Value.Ref == reference).Key;
            if (id is not null)
            {
                target = _waiting[id].Target;
                _waiting.Remove(id);
            }
        }

        if (id is not null)
        {
            await CloseAsync(id, target, ApprovalStatuses.Expired, "turn_ended", "reject");
        }
    }

    /// <summary>
    /// Waits for decisions on the run's change notifications (and a short poll as backstop), and for
    /// timeouts. A storage error is logged and the next pass tries again: an answer is never lost to it.
    /// </summary>
    private async Task WatchAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var changed = store.Changes.NextChangeAsync(runId);
            try
            {
                await PassAsync(ct);
                await Task.WhenAny(changed, Task.Delay(TimeSpan.FromSeconds(1), ct));
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is StorageUnavailableException or InvalidOperationException or System.Data.Common.DbException)
            {
                logger.LogWarning(ex, "Run {RunId}: reading its approvals failed; trying again", runId);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task PassAsync(CancellationToken ct)
    {
        List<string> waiting;
        lock (_waiting)
        {
            waiting = [.. _waiting.Keys];
        }

        if (waiting.Count == 0)
        {
            return;
        }

        var stored = await store.Approvals.ListAsync(runId, pendingOnly: false, ct);
        foreach (var approval in stored.Where(a => waiting.Contains(a.Id)))
        {
            if (approval.Status != ApprovalStatuses.Pending)
            {
                if (Deliver(approval.Id, approval.Status == ApprovalStatuses.Approved, approval.Reason) && approval.DecidedAt is { } decidedAt)
                {
                    // The server's share of an approval's round trip (bench/interactive.sh reads it).
                    logger.LogInformation(
                        "Run {RunId}: approval {ApprovalId} answered to the harness {LatencyMs:0.0} ms after it was decided",
                        runId,
                        approval.Id,
                        (time.GetUtcNow() - decidedAt).TotalMilliseconds);
                }
            }
            else if (time.GetUtcNow() - approval.CreatedAt >= timeout)
            {
                await CloseAsync(approval.Id, approval.Target, ApprovalStatuses.Rejected, "timeout", "reject");

                // Whoever closed it (the timeout, or an answer just before), the stored status is what the harness hears.
                var now = await store.Approvals.GetAsync(runId, approval.Id, ct);
                Deliver(approval.Id, now?.Status == ApprovalStatuses.Approved, now?.Reason ?? "no answer in time");
            }
        }
    }

    /// <summary>A stored decision reaches the harness once; true when this call passed it on.</summary>
    private bool Deliver(string approvalId, bool approve, string? reason)
    {
        (string Ref, string Target) waiting;
        lock (_waiting)
        {
            if (!_waiting.Remove(approvalId, out waiting))
            {
                return false;
            }
        }

        Answer(waiting.Ref, approve, reason);
        return true;
    }

    private void Answer(string reference, bool approve, string? reason)
    {
        IReadOnlyList<string> writes;
        lock (gate)
        {
            session.Answer(reference, approve, reason);
            writes = session.TakeWrites();
        }

        write(writes);
    }

    private async Task CloseAsync(string approvalId, string target, string status, string by, string decision)
    {
        var evt = ApprovalService.Decided(events, null, decision, by, null, null, via: null, approvalId: approvalId, target: target);
        await store.Approvals.DecideAsync(new ApprovalDecision(runId, approvalId, status, by, null, null, time.GetUtcNow(), [evt]), CancellationToken.None);
    }

    /// <summary>The run ended: what still waits expires (nobody can answer it any more).</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_watcher is not null)
        {
            await _watcher;
        }

        List<KeyValuePair<string, (string Ref, string Target)>> left;
        lock (_waiting)
        {
            left = [.. _waiting];
            _waiting.Clear();
        }

        foreach (var (id, waiting) in left)
        {
            try
            {
                await CloseAsync(id, waiting.Target, ApprovalStatuses.Expired, "run_ended", "reject");
            }
            catch (Exception ex) when (ex is StorageUnavailableException or InvalidOperationException)
            {
                logger.LogWarning(ex, "Run {RunId}: approval {ApprovalId} could not be expired", runId, id);
            }
        }

        _stop.Dispose();
    }
}
