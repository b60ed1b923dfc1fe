using System.Collections.Immutable;
using System.Globalization;
using Mogplex.Cli.Terminal;
using Mogplex.Client.Views;

namespace Mogplex.Cli.Cockpit.Transport;

/// <summary>
/// A run's diff as the diff drawer shows it: the changed files, then the patch line by line, every
/// line made safe for a terminal here (<see cref="Text.OneLine"/>, tabs kept), and where each file
/// and hunk starts (<c>n</c>/<c>p</c> jump between them). Or, instead, why there is none
/// (<see cref="Reason"/>: a server without the route, a refusal, no server at all).
/// </summary>
public sealed record RunDiffAnswer
{
    public string? Reason { get; init; }

    public ImmutableList<string> Lines { get; init; } = [];

    /// <summary>The indexes in <see cref="Lines"/> where a hunk (<c>@@</c>) starts, in order.</summary>
    public ImmutableList<int> Hunks { get; init; } = [];

    public int Files { get; init; }

    public static RunDiffAnswer Unavailable(string reason) => new() { Reason = Text.OneLine(reason) };

    /// <summary>The client's view of <c>GET /runs/{id}/diff</c>'s answer.</summary>
    public static RunDiffAnswer From(RunDiffView diff)
    {
        var files = diff.Files;
        var lines = new List<string>
        {
            $"base {Short(diff.Base)} → {(diff.Head is null ? "the sandbox, live" : "head " + Short(diff.Head))}: {files.Count} file{(files.Count == 1 ? "" : "s")} changed",
        };
        lines.AddRange(files.Select(f => $"  {Text.OneLine(f.Status ?? "?"),-12} {Counts(f)} {Text.OneLine(f.Path)}"));
        return Parse(lines, diff.Patch ?? "", diff.Truncated) with { Files = files.Count };
    }

    /// <summary>The patch after <paramref name="head"/>, made safe, with its hunks found.</summary>
    public static RunDiffAnswer Parse(IReadOnlyList<string> head, string patch, bool truncated)
    {
        var lines = new List<string>(head);
        var hunks = new List<int>();
        if (patch.Length == 0)
        {
            lines.Add("(no changes)");
        }
        else
        {
            lines.Add("");
            foreach (var line in Text.Printable(patch.TrimEnd('\n')).Split('\n'))
            {
                if (line.StartsWith("@@", StringComparison.Ordinal))
                {
                    hunks.Add(lines.Count);
                }

                lines.Add(line.Replace("\t", "    ", StringComparison.Ordinal));
            }
        }

        if (truncated)
        {
            lines.Add("… the patch was cut at the server's limit (mogplex runs diff shows the same)");
        }

        return new RunDiffAnswer { Lines = [.. lines], Hunks = [.. hunks] };
    }

    private static string Counts(RunDiffFileView f) =>
        f.Additions is null && f.Deletions is null ? "binary" : string.Create(CultureInfo.InvariantCulture, $"+{f.Additions ?? 0} -{f.Deletions ?? 0}");

    private static string Short(string? sha) => sha is null ? "?" : Text.OneLine(sha.Length > 10 ? sha[..10] : sha);
}
