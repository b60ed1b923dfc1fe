using Hex1b;
using Hex1b.Layout;
using Hex1b.Widgets;
using Mogplex.Cli.Cockpit.State;

namespace Mogplex.Cli.Cockpit.Ui;

/// <summary>
/// The cockpit's screen as Hex1b widgets, built from a <see cref="CockpitView"/> and nothing
/// else: header, runs rail (fleet view), timeline, alerts or notice, composer, key hints. Every
/// text was made safe by the reducer; Hex1b only lays it out and draws it.
/// </summary>
public static class CockpitScreen
{
    public const string Keys = "Enter send · /help · Tab focus · PgUp/PgDn scroll · Ctrl+O details · Ctrl+A approvals · Ctrl+C interrupt, twice quit";

    public const string ApprovalKeys = "a approve · r reject · A approve all of this run · Esc close";

    public static Hex1bWidget Build(RootContext ctx, CockpitView view, Action<string> submit, Action<string?> select, Hex1b.Widgets.TextBoxState composer)
    {
        var state = view.State;
        var rail = ScreenText.Rail(state);
        var selectedLine = Math.Max(0, rail.ToList().FindIndex(l => l.RunId is not null && l.RunId == state.SelectedRunId));
        var expanded = view.ExpandAll ? state.Selected?.Timeline.Where(r => r.Detail is not null).Select(r => r.Seq).ToHashSet() ?? [] : [];
        var timeline = ScreenText.TimelineLines(state.Selected, view.TimelineHeight, view.Scroll, expanded);
        var bottom = view.Notice ?? ScreenText.Alerts(state);
        return ctx.VStack(v =>
        [
            v.Text(ScreenText.Header(state, view.Transport)).Truncate(),
            v.HStack(h =>
            [
                h.Border(h.List(rail.Select(l => l.Text).ToList())
                        .FocusedIndex(selectedLine)
                        .OnFocusChanged(e => select(e.FocusedIndex >= 0 && e.FocusedIndex < rail.Count ? rail[e.FocusedIndex].RunId : null)))
                    .Title(ScreenText.RailTitle(state))
                    .Width(SizeHint.Fixed(32)),
                view.ApprovalsOpen
                    ? h.Border(h.VStack(t => [.. ScreenText.ApprovalLines(state).Select(l => t.Text(l).Truncate())])).Title($"Approvals ({state.Approvals.Count})").Fill()
                    : h.Border(h.VStack(t => [.. timeline.Select(l => t.Text(l.Text).Truncate())]))
                        .Title(view.Scroll > 0 ? $"Timeline (scrolled {view.Scroll} up, End: live)" : "Timeline")
                        .Fill(),
            ]).Fill(),
            v.Text(bottom.Length == 0 ? " " : bottom).Truncate(),
            view.ApprovalsOpen ? v.Text(ApprovalKeys).Truncate() : v.TextBox().State(composer).OnSubmit(e => submit(e.Text)),
            v.Text(Keys).Truncate(),
        ]);
    }
}
