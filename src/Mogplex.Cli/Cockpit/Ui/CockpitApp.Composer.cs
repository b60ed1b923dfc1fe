using Mogplex.Cli.Cockpit.Transport;

namespace Mogplex.Cli.Cockpit.Ui;

/// <summary>The composer's keys: its height, history, steering, search in the timeline and the timeline's scrolling.</summary>
public sealed partial class CockpitApp
{
    /// <summary>Scrolls the timeline <paramref name="rows"/> rows back (negative: towards live).</summary>
    private void ScrollTimeline(int rows) =>
        Change(v => v with { Scroll = Math.Clamp(v.Scroll + rows, 0, Math.Max(0, (v.State.Selected?.Timeline.Count ?? 0) - 1)) });

    /// <summary>The composer's text changed: its height, and what a slash command being typed would be.</summary>
    private void ComposerChanged(string text)
    {
        var lines = Math.Min(CockpitView.MaxComposerLines, text.Count(c => c == '\n') + 1);
        var hint = SlashCommands.Hint(text);
        Change(v => v.ComposerLines == lines && v.Hint == hint ? v : v with { ComposerLines = lines, Hint = hint });
    }

    /// <summary>
    /// <c>↑</c> (-1) / <c>↓</c> (+1): what was sent before, this session's; what was being typed
    /// comes back after the newest. In a text of several lines they move between its lines.
    /// </summary>
    private void History(int step)
    {
        if (_composer.Text.Contains('\n', StringComparison.Ordinal))
        {
            if (step < 0)
            {
                _composer.MoveUp();
            }
            else
            {
                _composer.MoveDown();
            }

            return;
        }

        lock (_gate)
        {
            if (_historyAt == _history.Count)
            {
                _draft = _composer.Text;
            }

            var at = Math.Clamp(_historyAt + step, 0, _history.Count);
            if (at == _historyAt)
            {
                return;
            }

            _historyAt = at;
            _composer.Text = at == _history.Count ? _draft : _history[at];
        }

        ComposerChanged(_composer.Text);
        _app?.Invalidate();
    }

    private void Remember(string text)
    {
        lock (_gate)
        {
            if (_history.Count == 0 || _history[^1] != text)
            {
                _history.Add(text);
                if (_history.Count > MaxHistory)
                {
                    _history.RemoveAt(0);
                }
            }

            _historyAt = _history.Count;
            _draft = "";
        }
    }

    /// <summary>How many sent texts <c>↑</c> reaches back.</summary>
    public const int MaxHistory = 200;

    /// <summary>
    /// <c>/search &lt;text&gt;</c>: the newest row of the selected run that holds it, marked and
    /// scrolled to; <c>/search</c> alone: the next older one (round to the newest again).
    /// </summary>
    private void Search(string term, CockpitView view)
    {
        var run = view.State.Selected;
        var again = term.Length == 0;
        term = again ? view.SearchTerm ?? "" : Terminal.Text.OneLine(term);
        if (run is null || term.Length == 0)
        {
            Notice(run is null ? "no run selected to search in" : "/search <text>: the newest row that holds it; /search again: the next older");
            return;
        }

        var hit = TimelineSearch.Find(run.Timeline, term, again ? view.SearchHit?.Seq : null);
        if (hit is null)
        {
            Change(v => v with { SearchTerm = null, SearchHit = null });
            Notice($"no row of this run holds '{term}'");
            return;
        }

        Change(v => v with { SearchTerm = term, SearchHit = hit, Scroll = Math.Max(0, run.Timeline.Count - 1 - hit.Index) });
        Notice(hit.Wrapped ? "search went round to the newest match" : null);
    }

    /// <summary><c>Ctrl+S</c> or <c>/steer &lt;text&gt;</c>: the text steers the selected interactive run's turn (sent at once, not queued).</summary>
    private async Task SteerAsync(string text)
    {
        var trimmed = text.Trim();
        var run = View.State.Selected;
        if (run is not { Interactive: true, IsTerminal: false })
        {
            Notice("steering needs an open interactive run selected (↑/↓ in the rail)");
            return;
        }

        if (trimmed.Length == 0)
        {
            Notice("type what to steer with, then Ctrl+S");
            return;
        }

        ClearComposer(trimmed);
        await SendAsync(new CockpitCommand.SendMessage(run.Id, trimmed, Steer: true), "steered");
    }

    private void ClearComposer(string sent)
    {
        Remember(sent);
        _composer.Text = "";
        ComposerChanged("");
    }
}
