using System.Text.Json.Nodes;
using Mogplex.Contracts.Events;
using Mogplex.Contracts.Runs;
using Mogplex.Server.Events;
using Mogplex.Storage;

namespace Mogplex.Server.Runs;

/// <summary>
/// Every change of a run's status, built in one place, as the state machine in
/// docs/architecture.md draws it:
/// <code>
/// pending ──cancel (no worker holds it)──► cancelled      CancelQueued
/// pending ──claim → sandbox → harness───► streaming       StartStreaming (fenced on the lease)
/// pending | streaming ──────────────────► success         Succeed
/// pending | streaming ──cancel_requested► cancelled       Cancel
/// pending | streaming ──────────────────► failed          Fail (its executor, or a node that found it abandoned)
/// </code>
/// Each is a fenced update that appends its events in the same transaction; the store returns
/// null when the run was no longer in an expected status (or no longer the caller's lease).
/// </summary>
public static class RunTransitions
{
    private static readonly IReadOnlyList<string> s_active = [RunStatuses.Pending, RunStatuses.Streaming];

    /// <summary>
    /// An interactive run kept open across a restart, which no worker holds yet (<c>streaming</c>
    /// without a lease), is cancelled in place: its harness is not running.
    /// </summary>
    public static RunTransition CancelReleased(string runId, DateTimeOffset at, RunEvents events) =>
        CancelUnclaimed(runId, RunStatuses.Streaming, "Run cancelled while it waited to be resumed", at, events);

    public static RunTransition CancelQueued(string runId, DateTimeOffset at, RunEvents events) =>
        CancelUnclaimed(runId, RunStatuses.Pending, "Run cancelled before it started", at, events);

    /// <summary>A run no worker holds, in status <paramref name="from"/>, cancelled in place.</summary>
    private static RunTransition CancelUnclaimed(string runId, string from, string cancelled, DateTimeOffset at, RunEvents events) => new()
    {
        RunId = runId,
        From = [from],
        To = RunStatuses.Cancelled,
        OnlyIfUnclaimed = true,
        At = at,
        Error = "Cancelled by user",
        Events =
        [
            events.Create(RunEventTypes.CancelRequested, "Cancellation requested"),
            events.Create(RunEventTypes.Cancelled, cancelled),
        ],
    };

    public static RunTransition StartStreaming(string runId, string leaseOwner, SandboxRecord sandbox, DateTimeOffset at, RunEvents events) => new()
    {
        RunId = runId,
        From = [RunStatuses.Pending],
        To = RunStatuses.Streaming,
        At = at,
        ExpectedLeaseOwner = leaseOwner,
        SandboxRecordId = sandbox.Id,
        SandboxId = sandbox.SandboxId,
        Events = [events.Create(RunEventTypes.StatusChanged, "Run is streaming", payload: new JsonObject { ["from"] = "pending", ["to"] = "streaming" })],
    };

    public static RunTransition Succeed(string runId, string leaseOwner, string? commit, DateTimeOffset at, RunEvents events) => new()
    {
        RunId = runId,
        From = s_active,
        To = RunStatuses.Success,
        At = at,
        ExpectedLeaseOwner = leaseOwner,
        Commit = commit,
        Events = [events.Create(RunEventTypes.Finished, commit is null ? "Run finished" : $"Run finished; delivered {commit[..12]}")],
    };

    public static RunTransition Cancel(string runId, string leaseOwner, DateTimeOffset at, RunEvents events) => new()
    {
        RunId = runId,
        From = s_active,
        To = RunStatuses.Cancelled,
        At = at,
        ExpectedLeaseOwner = leaseOwner,
        Error = "Cancelled by user",
        Events = [events.Create(RunEventTypes.Cancelled, "Run cancelled")],
    };

    /// <summary>The error is shown as it is stored (<c>runs get</c>): it gets the same sanitizing as the event.</summary>
    public static RunTransition Fail(string runId, string? leaseOwner, string error, DateTimeOffset at, RunEvents events)
    {
        var safe = events.Sanitizer.SanitizeString(error);
        return new()
        {
            RunId = runId,
            From = s_active,
            To = RunStatuses.Failed,
            At = at,
            ExpectedLeaseOwner = leaseOwner,
            Error = safe,
            Events = [events.Create(RunEventTypes.Failed, safe)],
        };
    }
}
