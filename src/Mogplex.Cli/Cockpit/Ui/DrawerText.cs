using System.Globalization;
using Mogplex.Cli.Cockpit.State;

namespace Mogplex.Cli.Cockpit.Ui;

/// <summary>
/// The words of the drawers other than approvals (<see cref="ScreenText.ApprovalLines"/>), from the
/// view alone (pure): a title, the lines that fit in <c>height</c>, and the keys that work while
/// it is open. Every text was made safe on its way in (the reducer, <c>RunDiffAnswer</c>).
/// </summary>
public static class DrawerText
{
    public const string DiffKeys = "↑/↓ PgUp/PgDn scroll · n/p next/previous hunk · Esc close";

    public const string CostKeys = "↑/↓ scroll · Esc close";

    public const string ExportKeys = "j JSON · l JSONL · m Markdown · Esc close";

    public const string ChooseKeys = "type to filter · ↑/↓ choose · Enter take it · Esc close";

    public const string AsTyped = " (as typed)";

    public const string ServerDefault = "(the server's default)";

    public static string Title(CockpitView view) => view.Drawer switch
    {
        CockpitDrawer.Diff { Answer: { Reason: null } a } d =>
            $"Diff: run {Short(d.RunId)}, {a.Files} file{(a.Files == 1 ? "" : "s")}, {a.Hunks.Count} hunk{(a.Hunks.Count == 1 ? "" : "s")}{(Hunk(a.Hunks, d.Top) is { } h ? $" (at {h}/{a.Hunks.Count})" : "")}",
        CockpitDrawer.Diff d => $"Diff: run {Short(d.RunId)}",
        CockpitDrawer.Cost => "Cost",
        CockpitDrawer.Export e => $"Export: run {Short(e.RunId)}",
        CockpitDrawer.Palette p => $"Palette: {(p.Filter.Length == 0 ? "type to filter" : "filter " + Terminal.Text.OneLine(p.Filter))}",
        CockpitDrawer.Picker p => $"{(p.Kind == "model" ? "Model" : "Harness")} for runs started here: {(p.Filter.Length == 0 ? "type to filter" : "filter " + Terminal.Text.OneLine(p.Filter))}",
        _ => "",
    };

    public static string Keys(CockpitDrawer? drawer) => drawer switch
    {
        CockpitDrawer.Diff => DiffKeys,
        CockpitDrawer.Cost => CostKeys,
        CockpitDrawer.Export => ExportKeys,
        CockpitDrawer.Palette or CockpitDrawer.Picker => ChooseKeys,
        _ => CockpitScreen.ApprovalKeys,
    };

    public static IReadOnlyList<string> Lines(CockpitView view, int height) => view.Drawer switch
    {
        CockpitDrawer.Diff d => Window(DiffLines(d), d.Top, height),
        CockpitDrawer.Cost c => Window(CostLines(view.State), c.Top, height),
        CockpitDrawer.Export e => ExportLines(e),
        CockpitDrawer.Palette p => Choices(Palette.Filter(p.Filter).Select(i => $"{i.Command.Trim(),-14} {i.Keys,-13} {i.Description}").ToList(), p.Selected, height),
        CockpitDrawer.Picker p => Choices(PickerOptions(p), p.Selected, height),
        _ => [],
    };

    public static IReadOnlyList<string> DiffLines(CockpitDrawer.Diff d) => d.Answer switch
    {
        null => ["asking the server for the diff…"],
        { Reason: { } reason } => [$"unavailable: {reason}", "", "Esc closes."],
        { } a => a.Lines,
    };

    /// <summary>The selected run's totals and each of its turns, then every run's total.</summary>
    public static IReadOnlyList<string> CostLines(CockpitState state)
    {
        var lines = new List<string>();
        if (state.Selected is { } run)
        {
            lines.Add($"run {Short(run.Id)}  {run.Harness ?? "-"}{(run.Model is null ? "" : " " + run.Model)}  {run.Status}");
            lines.Add(Figures("  total", run.InputTokens, run.CachedInputTokens, run.OutputTokens, run.CostUsd));
            lines.AddRange(run.Usage.Select(t => Figures(t.Turn == 0 ? "  outside a turn" : $"  turn {t.Turn}", t.InputTokens, t.CachedInputTokens, t.OutputTokens, t.CostUsd)));
            if (run.Usage.Count == 0)
            {
                lines.Add("  no usage reported yet");
            }

            lines.Add("");
        }

        lines.Add($"all runs here ({state.Runs.Count})");
        lines.AddRange(state.Runs.Select(r => Figures($"  {Short(r.Id)} {r.Status}", r.InputTokens, r.CachedInputTokens, r.OutputTokens, r.CostUsd)));
        lines.Add(Figures("  together", state.Runs.Sum(r => r.InputTokens), state.Runs.Sum(r => r.CachedInputTokens), state.Runs.Sum(r => r.OutputTokens), state.Runs.Sum(r => r.CostUsd)));
        return lines;
    }

    public static IReadOnlyList<string> ExportLines(CockpitDrawer.Export e)
    {
        var lines = new List<string>
        {
            "j  JSON: one object, the run and its events",
            "l  JSONL: its events, one a line (mogplex --events=jsonl < file replays it)",
            "m  Markdown: a summary to read",
            "",
            $"into {Terminal.Text.OneLine(e.Folder)}/ (folder 0700, file 0600)",
        };
        if (e.Written is { } path)
        {
            lines.Add("");
            lines.Add("written: " + Terminal.Text.OneLine(path));
        }

        if (e.Error is { } error)
        {
            lines.Add("");
            lines.Add("not written: " + error);
        }

        return lines;
    }

    /// <summary>The picker's options the filter matches; for a model, what was typed is one too.</summary>
    public static IReadOnlyList<string> PickerOptions(CockpitDrawer.Picker p)
    {
        var matched = Palette.Match(p.Filter, p.Options, o => o).ToList();
        if (p.Kind == "model" && p.Filter.Trim().Length > 0 && !p.Options.Contains(p.Filter.Trim()))
        {
            matched.Add(Terminal.Text.OneLine(p.Filter.Trim()) + AsTyped);
        }

        return matched;
    }

    /// <summary>The hunk (1-based) the line <paramref name="top"/> is in, or null before the first.</summary>
    public static int? Hunk(IReadOnlyList<int> hunks, int top)
    {
        var at = 0;
        while (at < hunks.Count && hunks[at] <= top)
        {
            at++;
        }

        return at == 0 ? null : at;
    }

    private static IReadOnlyList<string> Choices(IReadOnlyList<string> options, int selected, int height)
    {
        if (options.Count == 0)
        {
            return ["nothing matches"];
        }

        var at = Math.Clamp(selected, 0, options.Count - 1);
        var top = Math.Max(0, at - height + 1);
        return [.. options.Skip(top).Take(height).Select((o, i) => (top + i == at ? "▶ " : "  ") + o)];
    }

    private static IReadOnlyList<string> Window(IReadOnlyList<string> lines, int top, int height) =>
        [.. lines.Skip(Math.Clamp(top, 0, Math.Max(0, lines.Count - 1))).Take(height)];

    private static string Figures(string label, long input, long cached, long output, decimal cost) =>
        string.Create(CultureInfo.InvariantCulture, $"{label,-20}{input,9} in{cached,9} cached{output,8} out{Reducer.Money(cost),9}");

    private static string Short(string id) => id.Length > 8 ? id[^8..] : id;
}
