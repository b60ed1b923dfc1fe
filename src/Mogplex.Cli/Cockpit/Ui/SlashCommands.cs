namespace Mogplex.Cli.Cockpit.Ui;

/// <summary>
/// The slash commands the composer knows (cockpit.md, Slash commands): completion while typing
/// one, and the list <c>/help</c> gives. An unknown one is an error on the screen, never sent.
/// </summary>
public static class SlashCommands
{
    public static readonly IReadOnlyList<(string Name, string Help)> All =
    [
        ("/run", "/run <task>: start a run"),
        ("/steer", "/steer <text>: steer the selected run's turn (Ctrl+S)"),
        ("/attach", "/attach <id>: select a run"),
        ("/search", "/search <text>: find it in the timeline; again: older"),
        ("/runs", "/runs: the runs rail takes the keys"),
        ("/approvals", "/approvals: the approvals drawer (Ctrl+A)"),
        ("/diff", "/diff: the selected run's diff, hunk by hunk"),
        ("/cost", "/cost: tokens and cost, per run and per turn"),
        ("/export", "/export [json|jsonl|md]: write the selected run to $MOGPLEX_HOME/exports"),
        ("/interrupt", "/interrupt: interrupt the turn"),
        ("/finish", "/finish: end the interactive run"),
        ("/kill", "/kill: cancel the run"),
        ("/permissions", "/permissions [approval|auto]: show or set (global file)"),
        ("/harness", "/harness [codex|claude-code]: no argument: pick one"),
        ("/model", "/model [name|default]: no argument: pick one"),
        ("/login", "/login: sign in with a token"),
        ("/logout", "/logout: forget the stored token"),
        ("/clear", "/clear: clear the notice"),
        ("/help", "/help: the palette, every command and key (Ctrl+P)"),
        ("/quit", "/quit (/exit): leave; runs keep going"),
        ("/exit", "/exit: leave; runs keep going"),
    ];

    /// <summary>The commands that start with what was typed (nothing once a space was typed).</summary>
    public static IReadOnlyList<string> Matching(string typed) =>
        typed.StartsWith('/') && !typed.Contains(' ', StringComparison.Ordinal) && !typed.Contains('\n', StringComparison.Ordinal)
            ? [.. All.Select(c => c.Name).Where(n => n.StartsWith(typed, StringComparison.Ordinal))]
            : [];

    /// <summary>What <c>Tab</c> adds: the rest of the only matching command, or what all matching ones share; null when nothing.</summary>
    public static string? Completion(string typed)
    {
        var matching = Matching(typed);
        if (matching.Count == 0)
        {
            return null;
        }

        var common = matching.Aggregate((a, b) => a[..Enumerable.Range(0, Math.Min(a.Length, b.Length)).TakeWhile(i => a[i] == b[i]).Count()]);
        var whole = matching.Count == 1 ? common + " " : common;
        return whole.Length > typed.Length ? whole[typed.Length..] : null;
    }

    /// <summary>The line under the timeline while a command is being typed.</summary>
    public static string? Hint(string typed)
    {
        var matching = Matching(typed);
        return typed.StartsWith('/') && !typed.Contains(' ', StringComparison.Ordinal)
            ? matching.Count == 0 ? $"no command starts with {Terminal.Text.OneLine(typed)} (/help lists them)"
            : matching.Count == 1 ? All.First(c => c.Name == matching[0]).Help + " · Tab completes"
            : string.Join(" ", matching) + " · Tab completes"
            : null;
    }
}
