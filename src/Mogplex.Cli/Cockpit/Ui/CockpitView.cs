using Mogplex.Cli.Cockpit.State;

namespace Mogplex.Cli.Cockpit.Ui;

/// <summary>
/// What the screen draws: the reduced <see cref="CockpitState"/> plus what belongs to this screen
/// only (the timeline's scroll, the expanded rows, a one-line notice, the transport's name).
/// Changed under the app's lock; the screen reads a consistent copy.
/// </summary>
public sealed record CockpitView(string Transport)
{
    public CockpitState State { get; init; } = CockpitState.Empty;

    /// <summary>Rows up from the live end (0: live).</summary>
    public int Scroll { get; init; }

    /// <summary>Every row's detail shown (tool output, what an approval is about).</summary>
    public bool ExpandAll { get; init; }

    /// <summary>The approvals drawer is open (it takes the timeline's place; <c>a</c>, <c>r</c>, <c>A</c>, <c>Esc</c>).</summary>
    public bool ApprovalsOpen { get; init; }

    /// <summary>The permission mode runs started here get (<c>/permissions approval|auto</c>); null: the server's default.</summary>
    public string? PermissionMode { get; init; }

    /// <summary>The harness runs started here get (<c>/harness codex|claude-code</c>); null: the server's default.</summary>
    public string? Harness { get; init; }

    /// <summary>The answer to the last thing typed (an unknown command, a refusal, help).</summary>
    public string? Notice { get; init; }

    /// <summary>The screen's height in lines (the timeline takes what the rest leaves).</summary>
    public int Height { get; init; } = 24;

    public const int ChromeLines = 7;

    public int TimelineHeight => Math.Max(1, Height - ChromeLines);
}
