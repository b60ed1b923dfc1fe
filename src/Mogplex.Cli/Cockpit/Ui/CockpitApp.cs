using Hex1b;
using Hex1b.Input;
using Hex1b.Widgets;
using Mogplex.Cli.Cockpit.Files;
using Mogplex.Cli.Cockpit.State;
using Mogplex.Cli.Cockpit.Transport;

namespace Mogplex.Cli.Cockpit.Ui;

/// <summary>
/// The cockpit running: one transport's events into the one reducer, the screen redrawn from the
/// result, keys and the composer turned into commands. Quitting detaches (a run is never
/// cancelled by leaving). <c>Ctrl+C</c> once interrupts the selected run's turn, twice within
/// <see cref="DoubleCtrlC"/> quits; <c>/quit</c> quits. Hex1b restores the terminal when
/// <see cref="RunAsync"/> ends, whichever way it ends (the caller cancels it on SIGTERM/SIGHUP).
/// </summary>
/// <param name="transport">Where events come from and commands go.</param>
/// <param name="time">For the double <c>Ctrl+C</c>.</param>
/// <param name="size">The terminal's size in columns and lines now (it can change: a resize).</param>
/// <param name="home">Where the permissions files are (null: none, the permission mode is this session's only).</param>
/// <param name="signals">The terminal's title and bell: the number of runs that need you, and a ring when it rises.</param>
public sealed partial class CockpitApp(ICockpitTransport transport, TimeProvider time, Func<(int Width, int Height)> size, CockpitHome? home = null, ITerminalSignals? signals = null)
{
    public static readonly TimeSpan DoubleCtrlC = TimeSpan.FromSeconds(1.5);

    private readonly Lock _gate = new();
    private readonly TextBoxState _composer = new();

    /// <summary>The sign-in line's box: always empty; what is typed goes to <see cref="_secret"/>, never on screen.</summary>
    private readonly TextBoxState _secretBox = new();
    private readonly System.Text.StringBuilder _secret = new();
    private CockpitView _view = new(transport.Name);
    private Hex1bApp? _app;
    private DateTimeOffset? _lastCtrlC;
    private CancellationTokenSource? _stop;
    private bool _composerFocused;
    private readonly Lock _signalGate = new();
    private SessionLog? _log;
    private readonly List<string> _history = [];
    private int _historyAt;
    private string _draft = "";
    private int? _needsYou;

    public CockpitView View
    {
        get
        {
            lock (_gate)
            {
                return _view;
            }
        }
    }

    /// <summary>Runs until quit (or <paramref name="ct"/>); the terminal is whatever <paramref name="builder"/> makes (the real one, or a headless one in tests, which <paramref name="started"/> hands over).</summary>
    public async Task RunAsync(Hex1bTerminalBuilder builder, CancellationToken ct, Action<Hex1bTerminal>? started = null)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        _stop = stop;
        using var log = _log = home?.OpenLog(time);
        log?.Write("start", ("transport", transport.Name), ("version", VersionInfo.Version));
        if (transport is ICockpitSignIn { SignedIn: false } signIn)
        {
            Change(v => v with { LoginOpen = true, LoginServer = signIn.Address, Notice = "not signed in: paste a token of this server (mogplexd token create), or Esc" });
        }

        if (home is not null)
        {
            // After the first paint: finding the repository starts git.
            _ = Task.Run(() => Change(v => v with { Permissions = home.Permissions() }), stop.Token);
        }

        await using var built = builder.WithHex1bApp(
            (Hex1bAppOptions o) => o.EnableDefaultCtrlCExit = false,
            (Hex1bApp app) =>
            {
                _app = app;
                return (Func<RootContext, Hex1bWidget>)(ctx =>
                {
                    var (columns, lines) = size();
                    lock (_gate)
                    {
                        _view = _view.Height == lines && _view.Width == columns ? _view : _view with { Width = columns, Height = lines };
                    }

                    return Build(ctx);
                });
            }).Build();
        started?.Invoke(built);
        // On the pool, not here: the transport's set-up (buffers, its first read) is not on the
        // way to the first frame.
        var pump = Task.Run(() => PumpAsync(stop.Token), CancellationToken.None);
        try
        {
            await built.RunAsync(stop.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Quit, SIGTERM or SIGHUP: the terminal is restored as the run loop unwinds.
        }
        finally
        {
            log?.Write("end");
            await stop.CancelAsync();
            try
            {
                await pump;
            }
            catch (OperationCanceledException)
            {
                // The pump ends with the screen.
            }
        }
    }

    /// <summary>Feeds one event through the reducer (the transport pump does this; tests may too).</summary>
    public void Apply(CockpitEvent e) => Change(v => v with { State = Reducer.Apply(v.State, e) });

    public Hex1bWidget Build(RootContext ctx)
    {
        if (!_composerFocused && _app is { } app)
        {
            // Typing goes to the composer from the first key.
            _composerFocused = true;
            app.RequestFocus(n => n is TextBoxNode);
        }

        return Screen(ctx);
    }

    private Hex1bWidget Screen(RootContext ctx) =>
        CockpitScreen.Build(ctx, View, text => _ = SubmitAsync(text), Select, _composer, LoginBox, new ComposerKeys(History, () => _ = SteerAsync(_composer.Text), ComposerChanged, Quit) { Scroll = ScrollTimeline }, _filter, Filtered)
            .InputBindings(b =>
            {
                b.Ctrl().Key(Hex1bKey.C).Global().Action(CtrlC, "Interrupt the turn; twice: quit");
                b.Key(Hex1bKey.PageUp).Global().Action(PageUp, "Scroll up");
                b.Key(Hex1bKey.PageDown).Global().Action(PageDown, "Scroll down");
                b.Ctrl().Key(Hex1bKey.End).Global().Action(() => Change(v => v with { Scroll = 0, SearchTerm = null, SearchHit = null }), "Jump to live");
                b.Ctrl().Key(Hex1bKey.O).Global().Action(() => Change(v => v with { ExpandAll = !v.ExpandAll }), "Show or hide details");
                b.Ctrl().Key(Hex1bKey.A).Global().Action(() => Drawer(!View.ApprovalsOpen), "Approvals");
                if (View.ApprovalsOpen)
                {
                    // Only while the drawer is open (the composer is not there then): plain letters answer.
                    b.Key(Hex1bKey.Escape).Global().Action(() => Drawer(open: false), "Close");
                    b.Key(Hex1bKey.A).Global().Action(() => _ = DecideAsync(approve: true, allOfTheRun: false), "Approve");
                    b.Shift().Key(Hex1bKey.A).Global().Action(() => _ = DecideAsync(approve: true, allOfTheRun: true), "Approve all of the run");
                    b.Key(Hex1bKey.R).Global().Action(() => _ = DecideAsync(approve: false, allOfTheRun: false), "Reject");
                }

                BindDrawers(b);
            });

    /// <summary>Answers the first waiting approval (or all of its run's): never on the cockpit's own, only from a key a person pressed.</summary>
    private async Task DecideAsync(bool approve, bool allOfTheRun)
    {
        var approvals = View.State.Approvals;
        if (approvals.Count == 0)
        {
            Notice("nothing waits for an answer");
            return;
        }

        var first = approvals[0];
        foreach (var approval in allOfTheRun ? approvals.Where(a => a.RunId == first.RunId).ToList() : [first])
        {
            await SendAsync(
                new CockpitCommand.Decide(approval.RunId, approval.ApprovalId, approve, approve ? null : "rejected in the cockpit"),
                $"{(approve ? "approved" : "rejected")}: {approval.Action}: {approval.Target}");
        }
    }

    /// <summary>What the composer sent: a slash command, a follow-up to the selected interactive run, or a new run.</summary>
    public async Task SubmitAsync(string text)
    {
        var trimmed = text.Trim();
        if (trimmed.Length == 0)
        {
            return;
        }

        ClearComposer(trimmed);

        var view = View;
        if (trimmed.StartsWith('/'))
        {
            await SlashAsync(trimmed, view);
            return;
        }

        var run = view.State.Selected;
        if (run is { Interactive: true, IsTerminal: false })
        {
            await SendAsync(new CockpitCommand.SendMessage(run.Id, trimmed, Steer: false), "sent");
            return;
        }

        await StartAsync(trimmed, run?.RepoId);
    }

    private async Task SlashAsync(string line, CockpitView view)
    {
        var space = line.IndexOf(' ', StringComparison.Ordinal);
        var name = space < 0 ? line : line[..space];
        var rest = space < 0 ? "" : line[(space + 1)..].Trim();
        var run = view.State.Selected;
        if (await DrawerSlashAsync(name, rest, view))
        {
            return;
        }

        switch (name)
        {
            case "/quit" or "/exit":
                Quit();
                break;
            case "/help":
                OpenPalette();
                break;
            case "/permissions" when rest is "approval" or "auto":
                SetPermissionMode(rest);
                break;
            case "/permissions" when rest.Length > 0:
                Notice($"/permissions takes approval or auto, not {Terminal.Text.OneLine(rest)} (nothing was changed)");
                break;
            case "/permissions":
                ShowPermissions(view);
                break;
            case "/harness" when rest.Length > 0:
                Change(v => v with { Harness = rest });
                Notice($"runs started here from now on: harness {Terminal.Text.OneLine(rest)}");
                break;
            case "/harness":
                OpenPicker("harness", view);
                break;
            case "/approvals":
                Drawer(open: true);
                break;
            case "/login":
                OpenLogin();
                break;
            case "/logout":
                Logout();
                break;
            case "/clear":
                Notice(null);
                break;
            case "/run" when rest.Length > 0:
                await StartAsync(rest, run?.RepoId);
                break;
            case "/search":
                Search(rest, view);
                break;
            case "/steer" when rest.Length > 0:
                await SteerAsync(rest);
                break;
            case "/attach" when rest.Length > 0:
                Select(view.State.Runs.Find(r => r.Id == rest || r.Id.EndsWith(rest, StringComparison.Ordinal))?.Id);
                Notice(View.State.SelectedRunId is { } id && (id == rest || id.EndsWith(rest, StringComparison.Ordinal)) ? null : $"no run {Terminal.Text.OneLine(rest)} here");
                break;
            case "/interrupt" or "/finish" or "/kill" when run is null:
                Notice("no run selected");
                break;
            case "/interrupt":
                await SendAsync(new CockpitCommand.Interrupt(run!.Id), "interrupt sent");
                break;
            case "/finish":
                await SendAsync(new CockpitCommand.Finish(run!.Id), "finish sent");
                break;
            case "/kill":
                await SendAsync(new CockpitCommand.Cancel(run!.Id), "cancel sent");
                break;
            case "/run" or "/steer" or "/attach":
                Notice($"{name} needs an argument: {SlashCommands.All.First(c => c.Name == name).Help}");
                break;
            default:
                Notice($"unknown command {Terminal.Text.OneLine(name)} (nothing was sent): /help lists them");
                break;
        }
    }

    private void CtrlC()
    {
        var now = time.GetUtcNow();
        if (_lastCtrlC is { } last && now - last <= DoubleCtrlC)
        {
            Quit();
            return;
        }

        _lastCtrlC = now;
        var run = View.State.Selected;
        if (run is { IsTerminal: false })
        {
            _ = SendAsync(new CockpitCommand.Interrupt(run.Id), "interrupt sent (Ctrl+C again to quit)");
        }
        else
        {
            Notice("Ctrl+C again to quit (runs keep going)");
        }
    }

    private async Task SendAsync(CockpitCommand command, string done)
    {
        string? refused;
        try
        {
            refused = await transport.SendAsync(command, _stop?.Token ?? CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            refused = ex.Message;
        }

        _log?.Write("command", ("command", command.GetType().Name), ("runId", RunOf(command)), ("textLength", TextLength(command)), ("refused", refused));
        Notice(refused is null ? done : Terminal.Text.OneLine(refused));
    }

    private static string? RunOf(CockpitCommand command) => command switch
    {
        CockpitCommand.SendMessage m => m.RunId,
        CockpitCommand.Interrupt i => i.RunId,
        CockpitCommand.Finish f => f.RunId,
        CockpitCommand.Cancel c => c.RunId,
        CockpitCommand.Decide d => d.RunId,
        _ => null,
    };

    private static string? TextLength(CockpitCommand command) => command switch
    {
        CockpitCommand.StartRun s => s.Prompt.Length.ToString(System.Globalization.CultureInfo.InvariantCulture),
        CockpitCommand.SendMessage m => m.Text.Length.ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => null,
    };

    private void Select(string? runId)
    {
        if (runId is not null)
        {
            Change(v => v with { State = Reducer.Select(v.State, runId), Scroll = 0, SearchTerm = null, SearchHit = null });
        }
    }

    /// <summary>Opens (in place of any other) or closes the approvals drawer; typing goes to the composer again once it closes.</summary>
    private void Drawer(bool open)
    {
        _composerFocused = false;
        Change(v => v with { Drawer = open ? CockpitDrawer.Approvals.Instance : null });
    }

    private void Notice(string? text)
    {
        if (text is not null)
        {
            _log?.Write("notice", ("text", text));
        }

        Change(v => v with { Notice = text });
    }

    private void Quit()
    {
        _stop?.Cancel();
        _app?.RequestStop();
    }

    private async Task PumpAsync(CancellationToken ct)
    {
        await foreach (var e in transport.ReadAsync(ct))
        {
            if (e is CockpitEvent.HealthChanged health)
            {
                _log?.Write("health", ("health", health.Health.ToString()), ("detail", health.Detail));
            }

            Apply(e);
        }
    }

    private void Change(Func<CockpitView, CockpitView> change)
    {
        bool changed;
        lock (_gate)
        {
            var next = change(_view);
            changed = !ReferenceEquals(next, _view);
            _view = next;
        }

        if (changed)
        {
            _app?.Invalidate();
            Signal();
        }
    }

    /// <summary>The title says how many runs need you; the bell rings once each time that number rises (not for the runs already there at start).</summary>
    private void Signal()
    {
        if (signals is null)
        {
            return;
        }

        lock (_signalGate)
        {
            var state = View.State;
            var now = state.NeedsYou;
            if (now == _needsYou)
            {
                return;
            }

            var rose = _needsYou is { } before && now > before;
            _needsYou = now;
            signals.Title(ScreenText.Title(state));
            if (rose)
            {
                signals.Bell();
            }
        }
    }
}
