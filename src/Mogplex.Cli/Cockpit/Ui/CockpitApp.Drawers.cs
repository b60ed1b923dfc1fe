using Hex1b;
using Hex1b.Input;
using Hex1b.Widgets;
using Mogplex.Cli.Cockpit.Export;
using Mogplex.Cli.Cockpit.Transport;

namespace Mogplex.Cli.Cockpit.Ui;

/// <summary>
/// The drawers besides approvals (cockpit.md, Drawers): diff, cost, export, the palette and the
/// model / harness picker; what opens them (slash commands, <c>Ctrl+P</c>), and their keys, bound
/// only while that drawer is open (otherwise a plain letter is typing in the composer).
/// </summary>
public sealed partial class CockpitApp
{
    private readonly TextBoxState _filter = new();
    private readonly string? _exports;

    /// <summary>Where exports go: <c>$MOGPLEX_HOME/exports</c> (from the home the app was given) unless set; null: exporting says it cannot.</summary>
    public string? ExportsFolder
    {
        get => _exports ?? (home is null ? null : Path.Combine(home.Home, "exports"));
        init => _exports = value;
    }

    /// <summary>The drawer slash commands; false for any other (the caller handles it).</summary>
    private async Task<bool> DrawerSlashAsync(string name, string rest, CockpitView view)
    {
        switch (name)
        {
            case "/diff":
                await OpenDiffAsync(view);
                return true;
            case "/cost":
                Open(new CockpitDrawer.Cost());
                return true;
            case "/export":
                await ExportAsync(rest, view);
                return true;
            case "/model" when rest.Length == 0:
                OpenPicker("model", view);
                return true;
            case "/model":
                Change(v => v with { Model = rest == "default" ? null : rest });
                Notice($"runs started here from now on: model {(rest == "default" ? "the server's default" : Terminal.Text.OneLine(rest))}");
                return true;
            case "/runs":
                // The rail (Hex1b's list of strings) takes the keys, not the composer as after a drawer closes.
                Change(v => v.Drawer is null ? v : v with { Drawer = null });
                _composerFocused = true;
                _app?.RequestFocus(n => n is ListNode<string>);
                Notice("the runs: ↑/↓ select one, Tab goes on to the composer");
                return true;
            default:
                return false;
        }
    }

    /// <summary>The keys of the open drawer (approvals binds its own), and <c>Ctrl+P</c> for the palette from anywhere.</summary>
    private void BindDrawers(InputBindingsBuilder b)
    {
        b.Ctrl().Key(Hex1bKey.P).Global().Action(OpenPalette, "Palette");
        var drawer = View.Drawer;
        if (drawer is null or CockpitDrawer.Approvals)
        {
            return;
        }

        b.Key(Hex1bKey.Escape).Global().Action(CloseDrawer, "Close");
        switch (drawer)
        {
            case CockpitDrawer.Diff or CockpitDrawer.Cost:
                b.Key(Hex1bKey.UpArrow).Global().Action(() => ScrollDrawer(-1), "Scroll up");
                b.Key(Hex1bKey.DownArrow).Global().Action(() => ScrollDrawer(1), "Scroll down");
                b.Key(Hex1bKey.N).Global().Action(() => JumpHunk(forward: true), "Next hunk");
                b.Key(Hex1bKey.P).Global().Action(() => JumpHunk(forward: false), "Previous hunk");
                break;
            case CockpitDrawer.Export:
                b.Key(Hex1bKey.J).Global().Action(() => _ = ExportAsync("json", View), "Export JSON");
                b.Key(Hex1bKey.L).Global().Action(() => _ = ExportAsync("jsonl", View), "Export JSONL");
                b.Key(Hex1bKey.M).Global().Action(() => _ = ExportAsync("md", View), "Export Markdown");
                break;
            case CockpitDrawer.Palette or CockpitDrawer.Picker:
                b.Key(Hex1bKey.UpArrow).Global().Action(() => MoveChoice(-1), "Previous");
                b.Key(Hex1bKey.DownArrow).Global().Action(() => MoveChoice(1), "Next");
                b.Key(Hex1bKey.Enter).Global().Action(() => _ = ChooseAsync(), "Take it");
                break;
        }
    }

    /// <summary><c>PgUp</c>: the open diff or cost drawer a page up, else the timeline.</summary>
    private void PageUp()
    {
        if (View.Drawer is CockpitDrawer.Diff or CockpitDrawer.Cost)
        {
            ScrollDrawer(-View.TimelineHeight);
            return;
        }

        Change(v => v with { Scroll = Math.Min(Math.Max(0, (v.State.Selected?.Timeline.Count ?? 0) - 1), v.Scroll + v.TimelineHeight) });
    }

    /// <summary><c>PgDn</c>: the open diff or cost drawer a page down, else the timeline.</summary>
    private void PageDown()
    {
        if (View.Drawer is CockpitDrawer.Diff or CockpitDrawer.Cost)
        {
            ScrollDrawer(View.TimelineHeight);
            return;
        }

        Change(v => v with { Scroll = Math.Max(0, v.Scroll - v.TimelineHeight) });
    }

    private void Open(CockpitDrawer drawer)
    {
        // The composer goes while a drawer is open; the filter (palette, picker) comes and takes the keys.
        _composerFocused = false;
        Change(v => v with { Drawer = drawer });
    }

    private void CloseDrawer()
    {
        _composerFocused = false;
        Change(v => v with { Drawer = null });
    }

    private async Task OpenDiffAsync(CockpitView view)
    {
        if (view.State.Selected is not { } run)
        {
            Notice("no run selected");
            return;
        }

        Open(new CockpitDrawer.Diff(run.Id));
        RunDiffAnswer answer;
        if (transport is not IDiffSource source)
        {
            answer = RunDiffAnswer.Unavailable($"the {transport.Name} transport has no server to ask (a replay shows only its events)");
        }
        else
        {
            try
            {
                answer = await source.DiffAsync(run.Id, _stop?.Token ?? CancellationToken.None);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        Change(v => v.Drawer is CockpitDrawer.Diff { Answer: null } d && d.RunId == run.Id ? v with { Drawer = d with { Answer = answer } } : v);
    }

    private void ScrollDrawer(int by) => Change(v => v.Drawer switch
    {
        CockpitDrawer.Diff d => v with { Drawer = d with { Top = Clamp(d.Top + by, DrawerText.DiffLines(d).Count, v.TimelineHeight) } },
        CockpitDrawer.Cost c => v with { Drawer = c with { Top = Clamp(c.Top + by, DrawerText.CostLines(v.State).Count, v.TimelineHeight) } },
        _ => v,
    });

    /// <summary><c>n</c> / <c>p</c>: the next or previous hunk at the top of the diff drawer.</summary>
    private void JumpHunk(bool forward) => Change(v =>
    {
        if (v.Drawer is not CockpitDrawer.Diff { Answer.Hunks: { Count: > 0 } hunks } d)
        {
            return v;
        }

        var next = forward ? hunks.Where(h => h > d.Top).Cast<int?>().FirstOrDefault() : hunks.Where(h => h < d.Top).Cast<int?>().LastOrDefault();
        return next is { } to ? v with { Drawer = d with { Top = to } } : v;
    });

    private static int Clamp(int top, int lines, int height) => Math.Clamp(top, 0, Math.Max(0, lines - height));

    /// <summary><c>/export [json|jsonl|md]</c>: with a format, writes the selected run; without one, opens the drawer to pick it.</summary>
    private async Task ExportAsync(string format, CockpitView view)
    {
        if (view.State.Selected is not { } run)
        {
            Notice("no run selected");
            return;
        }

        if (ExportsFolder is not { } folder || OperatingSystem.IsWindows())
        {
            Notice("exporting needs a home folder (MOGPLEX_HOME)");
            return;
        }

        if (format.Length == 0)
        {
            Open(new CockpitDrawer.Export(run.Id, folder));
            return;
        }

        if (!RunExporter.Formats.Contains(format))
        {
            Notice($"unknown export format {Terminal.Text.OneLine(format)}: /export json|jsonl|md");
            return;
        }

        CockpitDrawer.Export done;
        try
        {
            var path = await RunExporter.WriteAsync(run, format, folder, time.GetUtcNow(), _stop?.Token ?? CancellationToken.None);
            done = new CockpitDrawer.Export(run.Id, folder, Written: path);
            Notice("exported: " + Terminal.Text.OneLine(path));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            done = new CockpitDrawer.Export(run.Id, folder, Error: Terminal.Text.OneLine(ex.Message));
            Notice("not exported: " + Terminal.Text.OneLine(ex.Message));
        }

        Open(done);
    }

    private void OpenPalette()
    {
        _filter.Text = "";
        Open(new CockpitDrawer.Palette());
    }

    private void OpenPicker(string kind, CockpitView view)
    {
        IReadOnlyList<string> options = kind == "model"
            ? [DrawerText.ServerDefault, .. view.State.Runs.Select(r => r.Model).Append(view.Model).OfType<string>().Distinct(StringComparer.Ordinal)]
            : [DrawerText.ServerDefault, "codex", "claude-code"];
        _filter.Text = "";
        Open(new CockpitDrawer.Picker(kind, options));
    }

    /// <summary>The palette's or the picker's filter changed: the first match is selected.</summary>
    private void Filtered(string text) => Change(v => v.Drawer switch
    {
        CockpitDrawer.Palette p => v with { Drawer = p with { Filter = text, Selected = 0 } },
        CockpitDrawer.Picker p => v with { Drawer = p with { Filter = text, Selected = 0 } },
        _ => v,
    });

    private void MoveChoice(int by) => Change(v => v.Drawer switch
    {
        CockpitDrawer.Palette p => v with { Drawer = p with { Selected = Math.Clamp(p.Selected + by, 0, Math.Max(0, Palette.Filter(p.Filter).Count - 1)) } },
        CockpitDrawer.Picker p => v with { Drawer = p with { Selected = Math.Clamp(p.Selected + by, 0, Math.Max(0, DrawerText.PickerOptions(p).Count - 1)) } },
        _ => v,
    });

    /// <summary><c>Enter</c> in the palette runs the selected action; in the picker, takes the selected option.</summary>
    private async Task ChooseAsync()
    {
        var view = View;
        switch (view.Drawer)
        {
            case CockpitDrawer.Palette p when Palette.Filter(p.Filter) is { Count: > 0 } items:
                var item = items[Math.Clamp(p.Selected, 0, items.Count - 1)];
                CloseDrawer();
                await RunActionAsync(item);
                break;
            case CockpitDrawer.Picker p when DrawerText.PickerOptions(p) is { Count: > 0 } options:
                var option = options[Math.Clamp(p.Selected, 0, options.Count - 1)];
                var value = option == DrawerText.ServerDefault ? null : option.EndsWith(DrawerText.AsTyped, StringComparison.Ordinal) ? p.Filter.Trim() : option;
                CloseDrawer();
                Change(v => p.Kind == "model" ? v with { Model = value } : v with { Harness = value });
                Notice($"runs started here from now on: {p.Kind} {(value is null ? "the server's default" : Terminal.Text.OneLine(value))}");
                break;
        }
    }

    private async Task RunActionAsync(PaletteItem item)
    {
        switch (item.Command)
        {
            case "key:details":
                Change(v => v with { ExpandAll = !v.ExpandAll });
                break;
            case "key:live":
                Change(v => v with { Scroll = 0 });
                break;
            case "key:scroll":
                PageUp();
                break;
            case "/approvals":
                Drawer(open: true);
                break;
            case var command when command.EndsWith(' '):
                // It wants an argument: into the composer, to be finished there.
                _composer.Text = command;
                break;
            default:
                await SlashAsync(item.Command, View);
                break;
        }
    }
}
