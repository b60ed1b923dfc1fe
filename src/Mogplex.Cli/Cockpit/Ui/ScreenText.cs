using System.Globalization;
using Mogplex.Cli.Cockpit.State;

namespace Mogplex.Cli.Cockpit.Ui;

/// <summary>
/// The words on the cockpit's screen, from the state alone (pure, no terminal): the header, the
/// runs rail, the selected run's timeline lines, the alerts. Only the rows that can be seen are
/// turned into lines (<see cref="TimelineLines"/>), so a 100,000-event run costs what a screenful does.
/// </summary>
public static class ScreenText
{
    public static string Header(CockpitState state, string transport)
    {
        var run = state.Selected;
        var parts = new List<string> { "mogplex", $"{transport}: {Health(state.Health)}" };
        if (run is not null)
        {
            // Most needed first: a narrow terminal cuts the end.
            parts.Add(run.Awaiting is null ? run.Status : $"{run.Status}, awaiting {run.Awaiting}");
            if (run.PermissionMode is not null)
            {
                parts.Add("mode " + run.PermissionMode);
            }

            parts.Add(run.Branch ?? "-");
            parts.Add($"{run.Harness ?? "-"}{(run.Model is null ? "" : " " + run.Model)}");
            parts.Add($"{Tokens(run.InputTokens)} in / {Tokens(run.OutputTokens)} out {Reducer.Money(run.CostUsd)}");
        }

        return string.Join(" │ ", parts);
    }

    /// <summary>The terminal title: how many runs need you, first.</summary>
    public static string Title(CockpitState state) => state.NeedsYou > 0 ? $"({state.NeedsYou}) mogplex" : "mogplex";

    /// <summary>
    /// The fleet view: the runs that need you (<c>!</c>), then the working ones (<c>~</c>), then the
    /// done ones, newest first in each group; a line per run, so that moving through the list
    /// always lands on a run. <see cref="RailTitle"/> counts the groups.
    /// </summary>
    public static IReadOnlyList<RailLine> Rail(CockpitState state)
    {
        // Loops, not Where(...).Select(...): under AOT that Select is resolved by the type loader
        // at its first call, about a millisecond of the first frame (bench/cockpit.sh).
        var lines = new List<RailLine>();
        foreach (var group in new[] { RunGroup.NeedsYou, RunGroup.Working, RunGroup.Done })
        {
            var mark = group switch { RunGroup.NeedsYou => '!', RunGroup.Working => '~', _ => ' ' };
            foreach (var r in state.Runs)
            {
                if (r.Group == group)
                {
                    lines.Add(new RailLine(r.Id, $"{mark} {Short(r.Id)} {ShortHarness(r.Harness)} {Glyph(r)}"));
                }
            }
        }

        return lines.Count == 0 ? [new RailLine(null, "no runs yet")] : lines;
    }

    /// <summary>The rail's title: how many runs need you, work, are done.</summary>
    public static string RailTitle(CockpitState state) =>
        $"Runs: {state.NeedsYou} need you, {state.Runs.Count(r => r.Group == RunGroup.Working)} working, {state.Runs.Count(r => r.Group == RunGroup.Done)} done";

    /// <summary>
    /// The last <paramref name="height"/> lines of the run's timeline, <paramref name="scroll"/>
    /// rows up from the live end; each row as its first line (its detail when it is expanded).
    /// </summary>
    public static IReadOnlyList<TimelineLine> TimelineLines(CockpitRun? run, int height, int scroll, IReadOnlySet<long> expanded, long? marked = null)
    {
        if (run is null)
        {
            return [new TimelineLine(RowKind.Lifecycle, "No run selected. Type a task below to start one.")];
        }

        var lines = new List<TimelineLine>();
        var end = Math.Max(0, run.Timeline.Count - scroll);
        for (var i = end - 1; i >= 0 && lines.Count < height; i--)
        {
            var row = run.Timeline[i];
            var rowLines = RowLines(row, expanded.Contains(row.Seq)).ToList();
            if (row.Seq == marked && rowLines.Count > 0)
            {
                // A search's hit.
                rowLines[0] = rowLines[0] with { Text = "» " + rowLines[0].Text };
            }

            lines.InsertRange(0, rowLines);
        }

        return lines.Count > height ? lines.GetRange(lines.Count - height, height) : lines;
    }

    /// <summary>The approvals drawer: every approval that waits, across runs, oldest first, with what it asks about; the first one is the one the keys answer.</summary>
    public static IReadOnlyList<string> ApprovalLines(CockpitState state)
    {
        if (state.Approvals.Count == 0)
        {
            return ["Nothing waits for an answer. Esc closes."];
        }

        var lines = new List<string>();
        foreach (var (approval, i) in state.Approvals.Select((a, i) => (a, i)))
        {
            lines.Add($"{(i == 0 ? "▶" : " ")} run {Short(approval.RunId)}  {approval.Action}: {approval.Target}  ({(approval.Risk.Length == 0 ? "risk unknown" : approval.Risk + " risk")})");
            var detail = state.Runs.Find(r => r.Id == approval.RunId)?.Timeline.FindLast(r => r.Kind == RowKind.Approval && r.ApprovalId == approval.ApprovalId)?.Detail;
            if (i == 0 && detail is not null)
            {
                lines.AddRange(detail.Split('\n').Select(l => "    " + l));
            }
        }

        return lines;
    }

    public static string Alerts(CockpitState state, string? local = null)
    {
        var alerts = new List<string>();
        if (local is not null)
        {
            alerts.Add(local);
        }

        var high = state.Approvals.Count(a => a.Risk == "high");
        if (state.Approvals.Count > 0)
        {
            alerts.Add($"{state.Approvals.Count} approval{(state.Approvals.Count == 1 ? "" : "s")} waiting{(high > 0 ? $" ({high} high risk)" : "")}: /approvals");
        }

        if (state.Health is TransportHealth.Reconnect or TransportHealth.Degraded or TransportHealth.Offline)
        {
            alerts.Add($"transport {Health(state.Health)}{(state.HealthDetail is null ? "" : ": " + state.HealthDetail)}");
        }

        return string.Join("  ·  ", alerts);
    }

    private static IEnumerable<TimelineLine> RowLines(TimelineRow row, bool expanded)
    {
        var text = row.Kind switch
        {
            RowKind.User => "you: " + row.Text,
            RowKind.Assistant => "agent: " + row.Text,
            RowKind.Reasoning => "thinking: " + row.Text,
            RowKind.Tool => (row.Detail is null ? "▸ " : expanded ? "▾ " : "▸ ") + row.Text,
            RowKind.Approval => $"? {(row.Decision is null ? "[waiting: Ctrl+A]" : $"[{row.Decision}]")} {row.Text}",
            RowKind.Turn => $"── {row.Text} ──",
            RowKind.Error => "! " + row.Text,
            _ => "· " + row.Text,
        };
        foreach (var line in text.Split('\n'))
        {
            yield return new TimelineLine(row.Kind, line);
        }

        if (expanded && row.Detail is not null)
        {
            foreach (var line in row.Detail.Split('\n'))
            {
                yield return new TimelineLine(row.Kind, "    " + line);
            }
        }
    }

    private static string Glyph(CockpitRun run) => run.Awaiting switch
    {
        "approval" => "approval?",
        "input" => "your turn",
        _ => run.Status,
    };

    private static string ShortHarness(string? harness) => harness switch { null => "-", "claude-code" => "claude", _ => harness };

    private static string Short(string id) => id.Length > 8 ? id[^8..] : id;

    private static string Tokens(long n) => n >= 10_000 ? (n / 1000).ToString(CultureInfo.InvariantCulture) + "k" : n.ToString(CultureInfo.InvariantCulture);

    private static string Health(TransportHealth health) => health.ToString().ToLowerInvariant();
}

/// <summary>One line of the rail; <see cref="RunId"/> is null for a group heading.</summary>
public sealed record RailLine(string? RunId, string Text);

/// <summary>One line of the timeline, drawn by its row's kind.</summary>
public sealed record TimelineLine(RowKind Kind, string Text);
