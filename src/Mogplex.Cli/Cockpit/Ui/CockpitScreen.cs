using Hex1b;
using Hex1b.Input;
using Hex1b.Layout;
using Hex1b.Theming;
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
    /// <summary>The key hints line (what fits); <see cref="AllKeys"/> is what <c>/help</c> shows.</summary>
    public const string Keys = "Enter send · Alt+Enter newline · ↑↓ history · Ctrl+S steer · Ctrl+A approvals · Ctrl+C interrupt, twice quit · /help";

    public const string AllKeys = "Enter send · Alt+Enter new line · ↑/↓ history · Ctrl+S steer · Tab rail/composer (q in the rail quits) · ↑/↓ in the rail select · PgUp/PgDn scroll · Ctrl+End live · Ctrl+O details · Ctrl+A approvals · Ctrl+C interrupt, twice quit";

    public const string ApprovalKeys = "a approve · r reject · A approve all of this run · Esc close";

    /// <summary>The key hints while the sign-in line is open.</summary>
    public static string LoginKeys(CockpitView view) =>
        $"Token: {(view.LoginLength == 0 ? "paste or type it" : $"{view.LoginLength} characters (never shown)")} · Enter sign in · Esc cancel · server {view.LoginServer ?? "-"}";

    /// <summary>The screen; <paramref name="filter"/> is the palette's and the picker's filter (it takes the composer's place while one is open), and <paramref name="filtered"/> hears it change.</summary>
    public static Hex1bWidget Build(
        RootContext ctx, CockpitView view, Action<string> submit, Action<string?> select, Hex1b.Widgets.TextBoxState composer,
        Func<WidgetContext<VStackWidget>, Hex1bWidget>? login = null, ComposerKeys? keys = null, Hex1b.Widgets.TextBoxState? filter = null, Action<string>? filtered = null)
    {
        var state = view.State;
        var rail = ScreenText.Rail(state);
        var selectedLine = Math.Max(0, rail.ToList().FindIndex(l => l.RunId is not null && l.RunId == state.SelectedRunId));
        var expanded = view.ExpandAll ? state.Selected?.Timeline.Where(r => r.Detail is not null).Select(r => r.Seq).ToHashSet() ?? [] : [];
        var timeline = ScreenText.TimelineLines(state.Selected, view.TimelineHeight, view.Scroll, expanded, view.SearchHit?.Seq);
        var bottom = view.Hint ?? view.Notice ?? ScreenText.Alerts(state, view.Permissions.Error is { } error ? "runs cannot start: " + Terminal.Text.OneLine(error) : null);
        var (title, inside) = view.Drawer switch
        {
            null => (TimelineTitle(view), Timeline(ctx, timeline, keys)),
            CockpitDrawer.Approvals => ($"Approvals ({state.Approvals.Count})", ctx.VStack(t => [.. ScreenText.ApprovalLines(state).Select(l => t.Text(l).Truncate())])),
            // The export drawer's lines (a file's path) wrap: a path cut short is no use.
            CockpitDrawer.Export => (DrawerText.Title(view), ctx.VStack(t => [.. DrawerText.Lines(view, view.TimelineHeight).Select(l => t.Text(l).Wrap())])),
            _ => (DrawerText.Title(view), ctx.VStack(t => [.. DrawerText.Lines(view, view.TimelineHeight).Select(l => t.Text(l).Truncate())])),
        };
        var railList = ctx.List(rail.Select(l => l.Text).ToList())
            .FocusedIndex(selectedLine)
            .OnFocusChanged(e => select(e.FocusedIndex >= 0 && e.FocusedIndex < rail.Count ? rail[e.FocusedIndex].RunId : null))
            .InputBindings(b =>
            {
                // In the rail (Tab), the composer empty, no drawer open: q leaves.
                if (keys is not null && composer.Text.Length == 0 && view.Drawer is null)
                {
                    b.Key(Hex1bKey.Q).Action(keys.Quit, "Quit");
                }
            });
        return ctx.VStack(v =>
        [
            v.Text(ScreenText.Header(state, view.Transport)).Truncate(),
            .. Boxes(v, view, ScreenText.RailTitle(state), railList, title, inside),
            v.Text(bottom.Length == 0 ? " " : bottom).Truncate(),
            view.Drawer is CockpitDrawer.Palette or CockpitDrawer.Picker && filter is not null ? v.TextBox().State(filter).OnTextChanged(e => filtered?.Invoke(e.NewText))
                : view.Drawer is not null ? v.Text(DrawerText.Keys(view.Drawer)).Truncate()
                : view.LoginOpen && login is not null ? login(v)
                : Composer(v, view, submit, composer, keys),
            v.Text(view.LoginOpen ? LoginKeys(view) : view.Drawer is CockpitDrawer.Palette or CockpitDrawer.Picker ? DrawerText.ChooseKeys : Keys).Truncate(),
        ]);
    }

    /// <summary>
    /// The rail and the timeline (or a drawer) side by side, each in a box with its title on the
    /// top line. The boxes are drawn as lines of text around the two panels rather than with
    /// Hex1b's <c>Border</c>, which writes a space into every cell inside it: the first frame
    /// then sent (and diffed, and parsed by the emulated screen) the whole screen, and its
    /// allocations set off a full garbage collection before the first paint (docs/benchmarks.md).
    /// What the panels leave unwritten stays blank, so the screen looks the same. The three rows
    /// (top line, panels, bottom line) go straight into the screen's stack: each level of nesting
    /// is a surface of its own for Hex1b to allocate and fill.
    /// </summary>
    private static Hex1bWidget[] Boxes(WidgetContext<VStackWidget> v, CockpitView view, string leftTitle, Hex1bWidget left, string rightTitle, Hex1bWidget right)
    {
        var rightWidth = Math.Max(2, view.Width - RailWidth);
        var side = string.Join('\n', Enumerable.Repeat("│", Math.Max(1, view.Height)));
        var between = string.Join('\n', Enumerable.Repeat("││", Math.Max(1, view.Height)));
        var (leftBefore, leftTitleShown, leftAfter) = TopLine(leftTitle, RailWidth);
        var (rightBefore, rightTitleShown, rightAfter) = TopLine(rightTitle, rightWidth);
        return
        [
            v.HStack(t =>
            [
                Lines(t, leftBefore),
                Title(t, leftTitleShown),
                Lines(t, leftAfter + rightBefore),
                Title(t, rightTitleShown),
                Lines(t, rightAfter),
            ]).Height(SizeHint.Fixed(1)),
            v.HStack(m =>
            [
                Lines(m, side),
                left.Width(SizeHint.Fixed(RailWidth - 2)),
                Lines(m, between),
                right.Fill(),
                Lines(m, side),
            ]).Fill(),
            Lines(v, BottomLine(RailWidth) + BottomLine(rightWidth)),
        ];
    }

    /// <summary>The columns the rail's box takes (its two border columns included).</summary>
    public const int RailWidth = 32;

    /// <summary>
    /// A box's top line around its title, as Hex1b's <c>Border</c> lays it out: the title centred
    /// (one column more after it than before when the room is odd), cut to the box's width less
    /// four columns.
    /// </summary>
    internal static (string Before, string Title, string After) TopLine(string title, int width)
    {
        var inner = Math.Max(0, width - 2);
        if (string.IsNullOrEmpty(title) || inner <= 2)
        {
            return ("┌" + new string('─', inner) + "┐", "", "");
        }

        var columns = DisplayWidth.GetStringWidth(title);
        if (columns > inner - 2)
        {
            (title, columns, _, _) = DisplayWidth.SliceByDisplayWidth(title, 0, inner - 2);
        }

        var before = (inner - columns) / 2;
        return ("┌" + new string('─', before), title, new string('─', inner - columns - before) + "┐");
    }

    private static string BottomLine(int width) => "└" + new string('─', Math.Max(0, width - 2)) + "┘";

    /// <summary>Border lines, in the border's colour.</summary>
    private static ThemePanelWidget Lines<TParent>(WidgetContext<TParent> c, string text)
        where TParent : Hex1bWidget => c.ThemePanel(t => t.Set(GlobalTheme.ForegroundColor, t.Get(BorderTheme.BorderColor)), c.Text(text).Truncate());

    private static ThemePanelWidget Title<TParent>(WidgetContext<TParent> c, string text)
        where TParent : Hex1bWidget => c.ThemePanel(t => t.Set(GlobalTheme.ForegroundColor, t.Get(BorderTheme.TitleColor)), c.Text(text).Truncate());

    private static string TimelineTitle(CockpitView view) =>
        view.SearchHit is { } hit ? $"Timeline (match {hit.Number} of {hit.Count} for '{view.SearchTerm}' · /search: older · Ctrl+End: live)"
            : view.Scroll > 0 ? $"Timeline (scrolled {view.Scroll} up, End: live)" : "Timeline";

    /// <summary>
    /// The timeline: the mouse wheel scrolls it three rows at a time, and once focused (<c>Tab</c>
    /// from the rail) <c>↑</c>/<c>↓</c> scroll it a row.
    /// </summary>
    private static Hex1bWidget Timeline(RootContext ctx, IReadOnlyList<TimelineLine> timeline, ComposerKeys? keys)
    {
        var text = ctx.Text(string.Join('\n', timeline.Select(l => l.Text))).Truncate();
        if (keys is null)
        {
            return text;
        }

        return ctx.Interactable(_ => text)
            .InputBindings(b =>
            {
                b.Mouse(MouseButton.ScrollUp).Action(() => keys.Scroll(3), "Scroll up");
                b.Mouse(MouseButton.ScrollDown).Action(() => keys.Scroll(-3), "Scroll down");
                b.Key(Hex1bKey.UpArrow).Action(() => keys.Scroll(1), "Row up");
                b.Key(Hex1bKey.DownArrow).Action(() => keys.Scroll(-1), "Row down");
            });
    }

    /// <summary>
    /// The composer: <c>Enter</c> sends, <c>Alt+Enter</c> starts a new line, <c>↑</c>/<c>↓</c>
    /// go through what was sent before (inside a text of several lines they move between its
    /// lines), <c>Ctrl+S</c> steers, <c>Tab</c> completes a slash command being typed.
    /// </summary>
    private static TextBoxWidget Composer(WidgetContext<VStackWidget> v, CockpitView view, Action<string> submit, TextBoxState composer, ComposerKeys? keys)
    {
        var box = v.TextBox().State(composer).OnSubmit(e => submit(e.Text));
        if (keys is null)
        {
            return box;
        }

        return box.Multiline().Height(Math.Clamp(view.ComposerLines, 1, CockpitView.MaxComposerLines))
            .OnTextChanged(e => keys.TextChanged(composer.Text))
            .InputBindings(b =>
            {
                b.Remove(Hex1bKey.Enter);
                b.Key(Hex1bKey.Enter).Action(() => submit(composer.Text), "Send");
                b.Alt().Key(Hex1bKey.Enter).Action(() =>
                {
                    composer.InsertNewline();
                    keys.TextChanged(composer.Text);
                }, "New line");
                b.Remove(Hex1bKey.UpArrow);
                b.Key(Hex1bKey.UpArrow).Action(() => keys.History(-1), "Previous");
                b.Remove(Hex1bKey.DownArrow);
                b.Key(Hex1bKey.DownArrow).Action(() => keys.History(+1), "Next");
                b.Ctrl().Key(Hex1bKey.S).Action(keys.Steer, "Steer");
                b.Key(Hex1bKey.Tab).Action(
                    context =>
                    {
                        // A slash command being typed is completed; otherwise Tab moves on (to the rail).
                        if (SlashCommands.Completion(composer.Text) is { } rest)
                        {
                            composer.Text += rest;
                            keys.TextChanged(composer.Text);
                        }
                        else
                        {
                            context.FocusNext();
                        }
                    },
                    "Complete / next");
            });
    }
}

/// <summary>What the composer's own keys do (the app's side).</summary>
public sealed record ComposerKeys(Action<int> History, Action Steer, Action<string> TextChanged, Action Quit)
{
    /// <summary>Scrolls the timeline by rows (positive: back, towards older rows).</summary>
    public Action<int> Scroll { get; init; } = _ => { };
}
