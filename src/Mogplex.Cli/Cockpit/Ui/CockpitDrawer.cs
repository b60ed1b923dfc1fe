using Mogplex.Cli.Cockpit.Transport;

namespace Mogplex.Cli.Cockpit.Ui;

/// <summary>
/// The drawer that is open (cockpit.md, Drawers): at most one at a time, in the timeline's place,
/// modal (its keys are bound only while it is open; <c>Esc</c> closes it).
/// </summary>
public abstract record CockpitDrawer
{
    private CockpitDrawer()
    {
    }

    /// <summary>The approvals waiting across runs: <c>a</c>, <c>r</c>, <c>A</c>.</summary>
    public sealed record Approvals : CockpitDrawer
    {
        public static readonly Approvals Instance = new();
    }

    /// <summary>A run's diff: null <see cref="Answer"/> while it is asked for; <see cref="Top"/> is the first line shown.</summary>
    public sealed record Diff(string RunId, RunDiffAnswer? Answer = null, int Top = 0) : CockpitDrawer;

    /// <summary>Tokens and cost, per run and per turn.</summary>
    public sealed record Cost(int Top = 0) : CockpitDrawer;

    /// <summary>Export a run into <see cref="Folder"/>: <c>j</c> JSON, <c>l</c> JSONL, <c>m</c> Markdown; <see cref="Written"/> is the file once there is one, <see cref="Error"/> why not.</summary>
    public sealed record Export(string RunId, string Folder, string? Written = null, string? Error = null) : CockpitDrawer;

    /// <summary>Every action, filtered as typed (a subsequence match); <see cref="Selected"/> is the one <c>Enter</c> runs.</summary>
    public sealed record Palette(string Filter = "", int Selected = 0) : CockpitDrawer;

    /// <summary>Pick what runs started here get: <c>model</c> or <c>harness</c>; typed text that matches nothing is taken as it is (a model's name).</summary>
    public sealed record Picker(string Kind, IReadOnlyList<string> Options, string Filter = "", int Selected = 0) : CockpitDrawer;
}
