namespace Mogplex.Cli.Cockpit.Ui;

/// <summary>
/// One action of the palette: what it runs, its keys, and what it does. The command is a slash
/// command (run as if typed; one that ends in a space wants an argument and goes to the composer),
/// or <c>key:</c> and a key's action.
/// </summary>
public sealed record PaletteItem(string Command, string Keys, string Description)
{
    /// <summary>What the filter is matched against.</summary>
    public string Label => $"{Command.Trim()} {Keys} {Description}";
}

/// <summary>
/// The command palette (<c>/help</c>, <c>Ctrl+P</c>): every action of the cockpit, and a fuzzy
/// filter over them: the typed characters in order, not necessarily together, case ignored; the
/// tighter and the earlier the match, the higher it is.
/// </summary>
public static class Palette
{
    public static readonly IReadOnlyList<PaletteItem> Items =
    [
        new("/run ", "", "start a run with the task that follows"),
        new("/steer ", "Ctrl+S", "steer the selected run's turn with the text that follows"),
        new("/attach ", "", "select a run by its id (or the end of it)"),
        new("/search ", "", "find text in the timeline (again: the next older match)"),
        new("/runs", "", "the runs: focus the rail"),
        new("/approvals", "Ctrl+A", "the approvals drawer: a approve, r reject, A approve all of a run"),
        new("/diff", "", "the selected run's diff, hunk by hunk"),
        new("/cost", "", "tokens and cost, per run and per turn"),
        new("/export", "", "export the selected run: JSON, JSONL or Markdown"),
        new("/export json", "", "export the selected run as one JSON object"),
        new("/export jsonl", "", "export the selected run's events as JSONL (replays with --events=jsonl)"),
        new("/export md", "", "export a Markdown summary of the selected run"),
        new("/model", "", "pick the model runs started here get"),
        new("/harness", "", "pick the harness runs started here get (codex, claude-code)"),
        new("/permissions", "", "the permission mode runs started here get"),
        new("/interrupt", "Ctrl+C", "interrupt the selected run's turn"),
        new("/finish", "", "end the selected run's conversation and deliver"),
        new("/kill", "", "cancel the selected run"),
        new("/login", "", "sign in with a token"),
        new("/logout", "", "forget the stored token"),
        new("/clear", "", "clear the notice line"),
        new("key:details", "Ctrl+O", "show or hide every row's details"),
        new("key:live", "Ctrl+End", "jump to the live end of the timeline"),
        new("key:scroll", "PgUp/PgDn", "scroll the timeline"),
        new("/quit", "Ctrl+C twice", "quit (runs keep going)"),
    ];

    /// <summary>The items <paramref name="filter"/> matches, best first (all of them, in order, for an empty filter).</summary>
    public static IReadOnlyList<PaletteItem> Filter(string filter, IReadOnlyList<PaletteItem>? items = null) =>
        Match(filter, items ?? Items, i => i.Label);

    /// <summary>The <paramref name="items"/> whose text has <paramref name="filter"/>'s characters in order, best first; ties keep their order.</summary>
    public static IReadOnlyList<T> Match<T>(string filter, IReadOnlyList<T> items, Func<T, string> text)
    {
        var typed = filter.Trim();
        if (typed.Length == 0)
        {
            return items;
        }

        return [.. items
            .Select((item, i) => (item, i, score: Score(typed, text(item))))
            .Where(x => x.score is not null)
            .OrderBy(x => x.score!.Value)
            .ThenBy(x => x.i)
            .Select(x => x.item)];
    }

    /// <summary>
    /// Null when <paramref name="typed"/> is not a subsequence of <paramref name="text"/>; otherwise
    /// lower is better: the span the match covers (from its first to its last character), then where it starts.
    /// </summary>
    public static (int Span, int Start)? Score(string typed, string text)
    {
        (int Span, int Start)? best = null;
        // Each place the first character occurs may start a tighter match; take the tightest.
        for (var start = text.IndexOf(typed[0].ToString(), StringComparison.OrdinalIgnoreCase); start >= 0;
             start = start + 1 < text.Length ? text.IndexOf(typed[0].ToString(), start + 1, StringComparison.OrdinalIgnoreCase) : -1)
        {
            var at = start;
            var matched = true;
            foreach (var c in typed.AsSpan(1))
            {
                at = at + 1 < text.Length ? text.IndexOf(c.ToString(), at + 1, StringComparison.OrdinalIgnoreCase) : -1;
                if (at < 0)
                {
                    matched = false;
                    break;
                }
            }

            if (!matched)
            {
                break;
            }

            var score = (at - start + 1, start);
            if (best is null || score.CompareTo(best.Value) < 0)
            {
                best = score;
            }
        }

        return best;
    }
}
