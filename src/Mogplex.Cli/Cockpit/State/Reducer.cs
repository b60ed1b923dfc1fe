using System.Globalization;
using System.Text.Json;
using Mogplex.Cli.Terminal;
using Mogplex.Contracts.Events;
using Mogplex.Contracts.Runs;

namespace Mogplex.Cli.Cockpit.State;

/// <summary>
/// The cockpit's one reducer: <c>(state, event) → state</c>, pure. An event at or below a run's
/// last sequence number is a replay (a reconnect) and changes nothing, so the same events in any
/// number of deliveries give the same screen. A snapshot (no sequence number) sets a run's status
/// only before its first event, or when it says the run ended. Server text is made safe for a terminal here
/// (<see cref="Text.OneLine"/> / <see cref="Text.Printable"/>), once, before anything draws it.
/// </summary>
public static class Reducer
{
    /// <summary>The most rows a run keeps; older ones go (the server keeps them all).</summary>
    public const int MaxRows = 200_000;

    public static CockpitState Apply(CockpitState state, CockpitEvent e) => e switch
    {
        CockpitEvent.RunSnapshot s => s.StartedHere ? Select(Snapshot(state, s.Run), s.Run.Id) : Snapshot(state, s.Run),
        CockpitEvent.RunEventArrived a => Event(state, a.RunId, a.Event),
        CockpitEvent.HealthChanged h => state with { Health = h.Health, HealthDetail = h.Detail is null ? null : Text.OneLine(h.Detail) },
        _ => state,
    };

    public static CockpitState ApplyAll(CockpitState state, IEnumerable<CockpitEvent> events) => events.Aggregate(state, Apply);

    /// <summary>Selects a run (a run the cockpit does not know is not selected).</summary>
    public static CockpitState Select(CockpitState state, string? runId) =>
        runId is null || state.Runs.Exists(r => r.Id == runId) ? state with { SelectedRunId = runId } : state;

    private static CockpitState Snapshot(CockpitState state, RunSummary s)
    {
        var (run, known) = Find(state, s.Id);

        // A snapshot has no sequence number: once events came, they say what the run is now,
        // unless the snapshot says it ended (no run comes back from that).
        var current = run.LastSeq == 0 || (s.Status is not null && RunStatuses.IsTerminal(s.Status));
        run = !current ? run : run with
        {
            Status = s.Status is null ? run.Status : Text.OneLine(s.Status),
            Awaiting = s.Status is not null || s.Awaiting is not null ? NullIfEmpty(Text.OneLine(s.Awaiting)) : run.Awaiting,
        };
        run = run with
        {
            Harness = s.Harness is null ? run.Harness : Text.OneLine(s.Harness),
            RepoId = s.RepoId ?? run.RepoId,
            Model = s.Model is null ? run.Model : Text.OneLine(s.Model),
            PermissionMode = s.PermissionMode is null ? run.PermissionMode : Text.OneLine(s.PermissionMode),
            Branch = s.Branch is null ? run.Branch : Text.OneLine(s.Branch),
            Turns = Math.Max(s.Turns ?? 0, run.Turns),
            Interactive = s.Interactive ?? run.Interactive,
            Error = s.Error is null ? run.Error : Text.OneLine(s.Error),
        };
        return Put(state, run, known);
    }

    private static CockpitState Event(CockpitState state, string runId, RunEvent e)
    {
        var (run, known) = Find(state, runId);

        // From here on the run's id as shown: the approvals queue is keyed (and drawn) by it too.
        runId = run.Id;
        if (e.Seq <= run.LastSeq)
        {
            return known ? state : Put(state, run, known);
        }

        run = run with { LastSeq = e.Seq, Events = run.Events.Count >= MaxRows ? run.Events.RemoveAt(0).Add(e) : run.Events.Add(e) };
        var message = Text.OneLine(e.Message);
        var approvals = state.Approvals;
        switch (e.Type)
        {
            case RunEventTypes.Started:
                run = Row(run, e, RowKind.Lifecycle, message.Length > 0 ? message : "Run accepted");
                break;
            case RunEventTypes.StatusChanged:
                run = Row(run with { Status = Str(e, "to") ?? run.Status }, e, RowKind.Lifecycle, message);
                break;
            case RunEventTypes.Finished or RunEventTypes.Failed or RunEventTypes.Cancelled:
                // The end: nothing of the run waits for anyone any more.
                run = e.Type switch
                {
                    RunEventTypes.Finished => Row(run with { Status = RunStatuses.Success, Awaiting = null }, e, RowKind.Lifecycle, message.Length > 0 ? message : "Run finished"),
                    RunEventTypes.Failed => Row(run with { Status = RunStatuses.Failed, Awaiting = null, Error = message }, e, RowKind.Error, "Failed: " + message),
                    _ => Row(run with { Status = RunStatuses.Cancelled, Awaiting = null }, e, RowKind.Lifecycle, message.Length > 0 ? message : "Run cancelled"),
                };
                approvals = approvals.RemoveAll(a => a.RunId == runId);
                break;
            case RunEventTypes.StreamStarted:
                run = Row(run with { Harness = Str(e, "harness") ?? run.Harness, Model = Str(e, "model") ?? run.Model }, e, RowKind.Lifecycle, message);
                break;
            case RunEventTypes.AssistantMessage:
                run = Row(run, e, RowKind.Assistant, Text.Printable(e.Message ?? ""));
                break;
            case RunEventTypes.Reasoning:
                run = Row(run, e, RowKind.Reasoning, Text.Printable(e.Message ?? ""));
                break;
            case RunEventTypes.ToolCall:
                run = Row(run, e, RowKind.Tool, e.ToolName is { Length: > 0 } tool ? $"{Text.OneLine(tool)}: {message}" : message);
                break;
            case RunEventTypes.ToolResult:
                run = ToolResult(run, e);
                break;
            case RunEventTypes.Usage:
                run = TurnUsage.Add(run, e);
                break;
            case RunEventTypes.Error:
                run = Row(run, e, RowKind.Error, message);
                break;
            case RunEventTypes.TurnStarted:
                run = Row(run with { Interactive = true, Awaiting = null, TurnsSeen = run.TurnsSeen + 1, Turns = Math.Max(run.Turns, run.TurnsSeen + 1) }, e, RowKind.Turn, $"turn {run.TurnsSeen + 1}");
                break;
            case RunEventTypes.TurnCompleted:
                var status = Str(e, "status") ?? "completed";
                var by = Str(e, "by");
                run = Row(TurnUsage.Completed(run, e) with { Awaiting = run.IsTerminal ? null : "input" }, e, RowKind.Turn, by is null ? $"turn {status}" : $"turn {status} by {by}");
                break;
            case RunEventTypes.UserMessage:
                run = Row(run with { Interactive = true }, e, RowKind.User, Text.Printable(e.Message ?? ""));
                break;
            case RunEventTypes.ApprovalRequested:
                var id = Str(e, "approvalId") ?? "";
                run = Add(run with { Awaiting = "approval" }, new TimelineRow(e.Seq, RowKind.Approval, message) { ApprovalId = id, Detail = Details(e) });
                approvals = approvals.RemoveAll(a => a.RunId == runId && a.ApprovalId == id)
                    .Add(new PendingApproval(runId, id, Str(e, "action") ?? "", Str(e, "target") ?? "", Str(e, "risk") ?? ""));
                break;
            case RunEventTypes.ApprovalDecided:
                run = Decided(run, e);
                var decided = Str(e, "approvalId");
                approvals = approvals.RemoveAll(a => a.RunId == runId && a.ApprovalId == decided);
                if (run.Awaiting == "approval" && !approvals.Exists(a => a.RunId == runId))
                {
                    run = run with { Awaiting = null };
                }

                break;
            default:
                // log, cancel_requested and any type this version does not know: a plain row.
                run = Row(run, e, e.Type == RunEventTypes.Log ? RowKind.Log : RowKind.Lifecycle, message);
                break;
        }

        return Put(state with { Approvals = approvals }, run, known);
    }

    private static CockpitRun ToolResult(CockpitRun run, RunEvent e)
    {
        var output = Text.Printable(e.Message ?? "");
        var index = run.Timeline.FindLastIndex(r => r.Kind == RowKind.Tool && r.Detail is null);
        return index < 0
            ? Row(run, e, RowKind.Tool, "result: " + Text.OneLine(e.Message))
            : run with { Timeline = run.Timeline.SetItem(index, run.Timeline[index] with { Detail = output }) };
    }

    private static CockpitRun Decided(CockpitRun run, RunEvent e)
    {
        var id = Str(e, "approvalId");
        var index = run.Timeline.FindLastIndex(r => r.Kind == RowKind.Approval && r.ApprovalId == id);
        var decision = $"{Str(e, "decision") ?? "decided"} by {Str(e, "by") ?? "?"}";
        return index < 0
            ? Add(run, new TimelineRow(e.Seq, RowKind.Approval, Text.OneLine(e.Message)) { ApprovalId = id, Decision = decision })
            : run with { Timeline = run.Timeline.SetItem(index, run.Timeline[index] with { Decision = decision }) };
    }

    /// <summary>The command or the changed paths an approval asks about, for its collapsed detail.</summary>
    private static string? Details(RunEvent e)
    {
        if (e.Payload is not { ValueKind: JsonValueKind.Object } payload || !payload.TryGetProperty("details", out var details) || details.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var lines = new List<string>();
        if (details.TryGetProperty("command", out var command) && command.ValueKind == JsonValueKind.String)
        {
            lines.Add("$ " + Text.OneLine(command.GetString()));
        }

        if (details.TryGetProperty("changes", out var changes) && changes.ValueKind == JsonValueKind.Array)
        {
            foreach (var change in changes.EnumerateArray().Where(c => c.ValueKind == JsonValueKind.Object))
            {
                lines.Add($"{Prop(change, "kind")} {Prop(change, "path")}");
                if (change.TryGetProperty("diff", out var diff) && diff.ValueKind == JsonValueKind.String)
                {
                    lines.Add(Text.Printable(diff.GetString() ?? ""));
                }
            }
        }

        return lines.Count == 0 ? null : string.Join('\n', lines);
    }

    private static CockpitRun Row(CockpitRun run, RunEvent e, RowKind kind, string text) => Add(run, new TimelineRow(e.Seq, kind, text));

    private static CockpitRun Add(CockpitRun run, TimelineRow row)
    {
        var timeline = run.Timeline.Add(row);
        return run with { Timeline = timeline.Count > MaxRows ? timeline.RemoveAt(0) : timeline };
    }

    /// <summary>A run is kept under its id as shown (escapes made visible), so it is looked up by that too: a raw id carrying escapes would never match and start a new run per line.</summary>
    private static (CockpitRun Run, bool Known) Find(CockpitState state, string runId)
    {
        var id = Text.OneLine(runId);
        return state.Runs.Find(r => r.Id == id) is { } run ? (run, true) : (new CockpitRun(id), false);
    }

    /// <summary>A known run is replaced in place; a new one goes first (newest first) and is selected when nothing is.</summary>
    private static CockpitState Put(CockpitState state, CockpitRun run, bool known) => known
        ? state with { Runs = state.Runs.SetItem(state.Runs.FindIndex(r => r.Id == run.Id), run) }
        : state with { Runs = state.Runs.Insert(0, run), SelectedRunId = state.SelectedRunId ?? run.Id };

    private static string? Str(RunEvent e, string name) =>
        e.Payload is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? Text.OneLine(v.GetString()) : null;

    private static string Prop(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? Text.OneLine(v.GetString()) : "";

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;

    internal static string Money(decimal usd) => "$" + usd.ToString("0.00##", CultureInfo.InvariantCulture);
}
