using Mogplex.Cli.Cockpit.State;

namespace Mogplex.Cli.Cockpit.Ui;

/// <summary>
/// Search in the selected run's timeline (<c>/search &lt;text&gt;</c>): the newest row whose text
/// or detail holds the words (case ignored) first, then each older one at every <c>/search</c>,
/// round to the newest again. A hit is a row's place; the view scrolls so that it is the last line
/// shown and marks it. Pure: the rows are the reducer's (already made inert).
/// </summary>
public static class TimelineSearch
{
    /// <summary>The found row (its index and seq), how many rows match, and whether the search went round; null when none matches.</summary>
    public sealed record Hit(int Index, long Seq, int Number, int Count, bool Wrapped);

    /// <summary>The newest match older than <paramref name="before"/> (null: the newest of all), else the newest of all again (<see cref="Hit.Wrapped"/>).</summary>
    public static Hit? Find(IReadOnlyList<TimelineRow> rows, string term, long? before)
    {
        if (term.Length == 0)
        {
            return null;
        }

        var matches = new List<int>();
        for (var i = 0; i < rows.Count; i++)
        {
            if (Matches(rows[i], term))
            {
                matches.Add(i);
            }
        }

        if (matches.Count == 0)
        {
            return null;
        }

        var older = before is { } seq ? matches.FindLastIndex(i => rows[i].Seq < seq) : matches.Count - 1;
        var wrapped = older < 0;
        var at = wrapped ? matches.Count - 1 : older;
        var index = matches[at];
        return new Hit(index, rows[index].Seq, matches.Count - at, matches.Count, wrapped);
    }

    private static bool Matches(TimelineRow row, string term) =>
        row.Text.Contains(term, StringComparison.OrdinalIgnoreCase) || (row.Detail?.Contains(term, StringComparison.OrdinalIgnoreCase) ?? false);
}
